# t7_files.py - table 7: file pooling (bench/files.sh).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


def table_files():
    """bench/files.sh (make bench-files), its output as it prints it."""
    print()
    print("== Table 7: files (make bench-files) ==")
    sys.stdout.flush()
    make = os.environ.get("MAKE", "make")
    p = subprocess.run(make.split() + ["--no-print-directory", "-C", ROOT, "bench-files",
                                       "BUILD=" + os.environ.get("BUILD", "build")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    text = "\n".join(l for l in p.stdout.splitlines() if not l.startswith(("BUILD=", "make")))
    print(text)
    RESULTS["tables"].append({"table": 7, "name": "files", "output": text})
    if p.returncode != 0:
        raise RuntimeError("make bench-files failed (%d)" % p.returncode)
