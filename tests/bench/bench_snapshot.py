#!/usr/bin/python3
"""Snapshot benchmark: a master and 8 children, each inheriting 1 GiB.

Prints, measured in this run: the time to read the tree's pagemaps raw (the
floor: one PTE walk per process, nothing computed), `cowprof snapshot`
(default threads and one thread), and smem on the same tree; and their
ratios. Targets: snapshot <= 1.5x the raw read, >= 2.5x faster than smem.
No assertion: figures only."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CHILDREN = int(os.environ.get("BENCH_CHILDREN", "8"))
MIB = int(os.environ.get("BENCH_MIB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def timed(cmd):
    times = []
    for _ in range(RUNS + 1):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    times = times[1:]  # the first run warms caches
    return min(times) * 1000, statistics.median(times) * 1000


def main():
    tree = subprocess.Popen([os.path.join(BUILD, "forktree"), "-a", str(MIB), "-s", "0",
                             "-n", str(CHILDREN), "-w", "0"], stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(tree.stdout.readline())
        pids = [str(p["pid"]) for p in ready["processes"]]
        rows = [("raw pagemap read (floor)", timed([os.path.join(BUILD, "bench_pagemap_raw")] + pids))]
        rows.append(("cowprof snapshot", timed([os.path.join(BUILD, "cowprof"), "snapshot", "--json", pids[0]])))
        rows.append(("cowprof snapshot --threads 1",
                     timed([os.path.join(BUILD, "cowprof"), "snapshot", "--threads", "1", "--json", pids[0]])))
        smem = shutil.which("smem")
        if smem:
            pattern = "forktree -a %d -s 0 -n %d" % (MIB, CHILDREN)
            rows.append(("smem (reads smaps)", timed([smem, "-P", pattern, "-c", "pid uss pss rss"])))
    finally:
        os.kill(tree.pid, signal.SIGTERM)
        tree.wait(30)

    raw = rows[0][1][0]
    snap = rows[1][1][0]
    print("snapshot benchmark: master + %d children, each inheriting %d MiB; best and median of %d runs"
          % (CHILDREN, MIB, RUNS))
    print("%-30s %10s %10s %14s" % ("", "best ms", "median ms", "best / raw"))
    for name, (best, med) in rows:
        print("%-30s %10.1f %10.1f %13.2fx" % (name, best, med, best / raw))
    print("cowprof snapshot / raw read: %.2fx (target <= 1.5x)" % (snap / raw))
    if len(rows) > 3:
        print("smem / cowprof snapshot:     %.2fx (target >= 2.5x)" % (rows[3][1][0] / snap))
    else:
        print("smem not installed: run 'make deps-test'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
