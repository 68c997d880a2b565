"""Forked children that only read inherited Python objects, and still copy.

The parent builds a list of floats (pymalloc packs them 126 to a page),
then forks two children. reader_alpha sums the first ALPHA floats, and
reader_beta the next BETA: reading an object increments and decrements its
reference count, which writes its page, which the kernel then copies. So
each child copies about ALPHA (or BETA) / 126 pages, nearly all of them from
the `for` line of its reader: what `cowprof run` + `cowprof report` must
show. Run with /usr/bin/python3:

    cowprof run -i 0.2 -- /usr/bin/python3 samples/pyreaders.py

Prints one JSON line (the children's pids and sums) and exits 0 once both
children have exited. Options: --alpha N --beta N --linger SEC, and
--wait-stdin: once the list is built, print {"ready": PID} and wait for a
line on stdin before forking (so a profiler can attach first).
"""
import argparse
import itertools
import json
import os
import sys
import time


def reader_alpha(data, n):
    total = 0.0
    for x in itertools.islice(data, n):  # reader_alpha's copying line
        total += x
    return total


def reader_beta(data, start, n):
    total = 0.0
    for i in range(start, start + n):
        total += data[i]  # reader_beta's copying line
    return total


def child(fn, linger, *args):
    total = fn(*args)
    sys.stdout.flush()
    time.sleep(linger)  # let a sample see the copied pages before exit
    os._exit(0 if total > 0 else 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha", type=int, default=300_000)
    ap.add_argument("--beta", type=int, default=700_000)
    ap.add_argument("--linger", type=float, default=1.0)
    ap.add_argument("--wait-stdin", action="store_true")
    a = ap.parse_args()
    data = [float(i) for i in range(a.alpha + a.beta + 1000)]
    if a.wait_stdin:
        print(json.dumps({"ready": os.getpid()}), flush=True)
        sys.stdin.readline()
    pids = []
    for fn, args in ((reader_alpha, (data, a.alpha)),
                     (reader_beta, (data, a.alpha, a.beta))):
        pid = os.fork()
        if pid == 0:
            child(fn, a.linger, *args)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
    print(json.dumps({"alpha_pid": pids[0], "beta_pid": pids[1], "codes": codes}),
          flush=True)
    return 0 if codes == [0, 0] else 1


if __name__ == "__main__":
    sys.exit(main())
