# __init__.py - the bench tables, one module per table (bench/bench.py runs them).
