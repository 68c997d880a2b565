#!/usr/bin/python3
"""Integration tests: run cowprof on real process trees and check its figures
against known answers (samples/forktree) and against the kernel
(smaps_rollup). Prints one line per test and a summary line."""
import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback

# Everything the tests (and the cowprof processes they start) put in a
# temporary folder goes under one folder, removed at the end.
BASE = tempfile.mkdtemp(prefix="cowprof-tests-")
os.environ["TMPDIR"] = BASE
tempfile.tempdir = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Every tests/integration/test_*.py, in name order.
MODULES = sorted(f[:-3] for f in os.listdir(HERE)
                 if f.startswith("test_") and f.endswith(".py"))


def main():
    only = sys.argv[1:]
    passed = failed = 0
    for name in MODULES:
        mod = importlib.import_module(name)
        for fn in sorted(n for n in dir(mod) if n.startswith("test_")):
            if only and not any(o in fn for o in only):
                continue
            t0 = time.time()
            try:
                getattr(mod, fn)()
                passed += 1
                print("ok   %s.%s (%.1fs)" % (name, fn, time.time() - t0), flush=True)
            except Exception:
                failed += 1
                print("FAIL %s.%s" % (name, fn), flush=True)
                traceback.print_exc()
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        shutil.rmtree(BASE, ignore_errors=True)
    sys.exit(status)
