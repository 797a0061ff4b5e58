# PostgreSQL benchmark (issue 28): `make bench-postgres` prints, side by
# side, psycopg2 connect + SELECT + close without objpool, with it, through
# PgBouncer, and on one persistent connection. `make bench` calls it last.
.PHONY: bench-postgres
bench-postgres: $(BUILD)/libobjpool.so
	BUILD=$(BUILD) bench/postgres.sh
