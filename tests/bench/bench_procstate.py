#!/usr/bin/python3
"""procstate benchmark: the cost of reading what each process of a tree of
50 (the forktree root and 49 sleeping children) waits on, against one
snapshot of the same tree (build/bench_procstate does both in one process).
Target: <= 10% of a sample's time. No assertion: figures only."""
import json
import os
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CHILDREN = int(os.environ.get("BENCH_CHILDREN", "49"))
MIB = os.environ.get("BENCH_MIB", "64")
RUNS = os.environ.get("BENCH_RUNS", "20")


def main():
    tree = subprocess.Popen([os.path.join(BUILD, "forktree"), "-a", MIB, "-s", "0",
                             "-n", str(CHILDREN), "-w", "16"], stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(tree.stdout.readline())
        root = ready["processes"][0]["pid"]
        r = subprocess.run([os.path.join(BUILD, "bench_procstate"), str(root), RUNS],
                           capture_output=True, text=True, timeout=600)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
    finally:
        os.kill(tree.pid, signal.SIGTERM)
        tree.wait(30)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
