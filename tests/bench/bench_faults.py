#!/usr/bin/python3
"""Cost of a fork child's first write to an inherited page, in the same run:
plain (nothing armed); the raw mechanisms (mprotect + SIGSEGV, userfaultfd
WP + SIGBUS, nothing recorded); libcowprof_preload.so with no stacks, with
native stacks, and, in a /usr/bin/python3 child, with native + Python
stacks. Rounds alternate the setups; the best round of each is shown.
Prints figures and ratios; no assertion. Targets: <= 5 us added
without stacks, <= 25 us with native + Python stacks."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "build", "bench_faults")
LIB = os.path.join(ROOT, "build", "libcowprof_preload.so")
DUMP = os.path.join(ROOT, "build", "faultring_dump")
PYTHON = "/usr/bin/python3"
PAGES = int(os.environ.get("BENCH_PAGES", "16384"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

# The child writes one byte into each page of a bytearray the parent filled,
# from a Python function a few frames deep; the second pass is the loop's own
# cost, subtracted.
PY_CHILD = r"""
import os, sys, time
n = int(sys.argv[1])
depth = int(sys.argv[2])
buf = bytearray(b"x" * (n * 4096))
def touch(b, v):
    for i in range(0, len(b), 4096):
        b[i] = v
def level2(b, v, d):
    if d > 0:
        return level2(b, v, d - 1)
    touch(b, v)
def level1(b, v):
    t0 = time.perf_counter(); level2(b, v, depth); return time.perf_counter() - t0
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    t1 = level1(buf, 1)
    t2 = level1(buf, 2)
    print("us_per_page %.3f %.3f" % (t1 * 1e6 / n, t2 * 1e6 / n))
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
"""


def run_once(argv, stacks=None):
    """(first-pass us per page minus the second pass, events recorded or None)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("COWPROF_SPOOL", None)
    spool = None
    if stacks:
        spool = tempfile.mkdtemp(prefix="cowprof-bench-")
        env.update(LD_PRELOAD=LIB, COWPROF_SPOOL=spool, COWPROF_STACKS=stacks,
                   COWPROF_RING_SLOTS=str(PAGES + 4096))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
        m = re.search(r"us_per_page ([\d.]+) ([\d.]+)", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError("%s: exit %d: %s" % (argv, r.returncode, r.stderr[-500:]))
        events = None
        if spool:
            events = 0
            for name in os.listdir(spool):
                out = subprocess.run([DUMP, os.path.join(spool, name)], capture_output=True,
                                     text=True, check=True).stdout.splitlines()
                events += len(out) - 2
        return float(m.group(1)) - float(m.group(2)), events
    finally:
        if spool:
            shutil.rmtree(spool)


def main():
    if not os.path.exists(BENCH) or not os.path.exists(LIB):
        print("bench_faults: build first (make)", file=sys.stderr)
        return 1
    c = [BENCH, "plain", str(PAGES)]
    py = [PYTHON, "-c", PY_CHILD, str(PAGES), "0"]
    deep = [PYTHON, "-c", PY_CHILD, str(PAGES), "30"]
    setups = [
        ("C plain fork-child write", c, None),
        ("C mprotect + SIGSEGV (raw, sequential)", [BENCH, "mprotect", str(PAGES)], None),
        ("C mprotect + SIGSEGV (raw, scattered)", [BENCH, "mprotect", str(PAGES), "scattered"], None),
        ("C userfaultfd WP + SIGBUS (raw)", [BENCH, "uffd", str(PAGES)], None),
        ("C library, no stacks", c, "none"),
        ("C library, native stacks", c, "native"),
        ("Python plain fork-child write", py, None),
        ("Python library, no stacks", py, "none"),
        ("Python library, native stacks", py, "native"),
        ("Python library, native + Python stacks", py, "all"),
        ("Python 30 calls deeper, plain", deep, None),
        ("Python 30 calls deeper, native stacks", deep, "native"),
        ("Python 30 calls deeper, native + Python", deep, "all"),
    ]
    best = {}
    events = {}
    for _ in range(ROUNDS):
        for name, argv, stacks in setups:
            try:
                us, ev = run_once(argv, stacks)
            except RuntimeError as e:
                best[name] = None
                events[name] = str(e).splitlines()[0][:80]
                continue
            if best.get(name) is None or us < best[name]:
                best[name] = us
            events[name] = ev
    print("first write to an inherited page, %d pages, best of %d rounds (us per page)"
          % (PAGES, ROUNDS))
    base = {"C": best["C plain fork-child write"],
            "Python": best["Python plain fork-child write"],
            "Python 30": best["Python 30 calls deeper, plain"]}
    for name, _, _ in setups:
        us = best[name]
        if us is None:
            print("  %-42s failed: %s" % (name, events[name]))
            continue
        b = base["Python 30" if name.startswith("Python 30") else name.split()[0]]
        ev = events[name]
        print("  %-42s %7.2f us  +%6.2f us  x%5.2f%s" % (
            name, us, us - b, us / b if b > 0 else 0,
            "  (%d events)" % ev if isinstance(ev, int) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
