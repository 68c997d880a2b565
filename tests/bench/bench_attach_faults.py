#!/usr/bin/python3
"""Cost of `cowprof record --faults` (perf attach path) to the target, in
the same run:

1. a fork child's first write to an inherited page (a /usr/bin/python3
   child writing one byte per page of a 64 MiB bytearray; the second pass
   subtracted): plain; with perf alone (build/faultwatch --quiet: the
   tracepoint, its filter and the stack copy, no processing) at 4 KiB and
   16 KiB stack copies, and sampling one fault in 32 (the tracepoint and
   its filter still run at every fault); with `cowprof record --faults` (the reader thread
   unwinding and reading Python frames on the same 2 cores);
2. gunicorn (samples/gunicorn/conf_preload.py, 2 workers, 200,000 items)
   requests per second on /touch, without cowprof, with `cowprof record`
   alone (no --faults: the recorder's own share), and with --faults: while
   the first writes happen (a fresh
   tree for each measurement, 12 requests; also with --fault-period auto,
   one in 32 while a process makes more than 5,000 first writes a second,
   and --fault-period 32, each sample then standing for 32 faults) and
   once settled (the same tree, 3 s runs alternating with and without
   cowprof attached); cowprof's start-up (first sample, symbol tables) is
   let pass (1.5 s) before the load starts, and as long without it;
3. the reader's own cost per sample (unwinding, Python frames), as cowprof
   reports it.

Best and median of ROUNDS (BENCH_ROUNDS, default 9), and the median of
each round's own ratio (the modes in a shuffled order each round). Prints figures; no assertion.
Targets: <= 10% fewer requests while first writes happen, <= 1%
once settled."""
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from treeutil import Gunicorn  # noqa: E402

COWPROF = os.path.join(ROOT, "build", "cowprof")
WATCH = os.path.join(ROOT, "build", "faultwatch")
LOAD = os.path.join(ROOT, "samples", "gunicorn", "load.py")
PYTHON = "/usr/bin/python3"
PAGES = int(os.environ.get("BENCH_PAGES", "16384"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
TMP = tempfile.mkdtemp(prefix="cowprof-bench-")

PY_CHILD = r"""
import os, sys, time
n = int(sys.argv[1])
buf = bytearray(b"x" * (n * 4096))
def touch(b, v):
    for i in range(0, len(b), 4096):
        b[i] = v
def timed(b, v):
    t0 = time.perf_counter(); touch(b, v); return time.perf_counter() - t0
print("ready", flush=True)
sys.stdin.readline()
pid = os.fork()
if pid == 0:
    t1 = timed(buf, 1)
    t2 = timed(buf, 2)
    print("us_per_page %.3f %.3f" % (t1 * 1e6 / n, t2 * 1e6 / n), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def first_write(attach):
    """us per first write (first pass minus second) with attach(pid) -> Popen
    or None; and what the attached tool printed on stderr."""
    t = subprocess.Popen([PYTHON, "-c", PY_CHILD, str(PAGES)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    t.stdout.readline()
    a = attach(t.pid) if attach else None
    if a is not None:
        a.stderr.readline() if a.args[0] == COWPROF else a.stdout.readline()
    t.stdin.write("go\n")
    t.stdin.flush()
    out = t.stdout.readline()
    t.wait(60)
    err = ""
    if a is not None:
        if a.poll() is None:
            a.send_signal(signal.SIGINT)
        _, err = a.communicate(timeout=60)
    m = re.search(r"us_per_page ([\d.]+) ([\d.]+)", out)
    return float(m.group(1)) - float(m.group(2)), err or ""


def watch(stack, period=1):
    return lambda pid: subprocess.Popen([WATCH, "--quiet", "--stack", str(stack),
                                         "--period", str(period), str(pid)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)


def record(pid, *extra, faults=True):
    # a new file each time: the settled runs attach to one tree again
    return subprocess.Popen([COWPROF, "record", *(("--faults",) if faults else ()), *extra,
                             "-i", "1", "-o",
                             os.path.join(TMP, "b-%d-%d.db" % (pid, time.time_ns())),
                             str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def per_sample(err):
    m = re.search(r"([\d.]+) us per unwind \(\d+ from the memo\), ([\d.]+) us per Python read",
                  err)
    return (float(m.group(1)), float(m.group(2))) if m else (None, None)


def part1():
    setups = [("plain", None), ("perf only, 4 KiB stacks", watch(4096)),
              ("perf only, 16 KiB stacks", watch(16384)),
              ("perf only, 4 KiB, 1 in 32", watch(4096, 32)),
              ("cowprof record --faults", record)]
    best = {name: None for name, _ in setups}
    costs = []
    for _ in range(ROUNDS):
        for name, fn in setups:
            us, err = first_write(fn)
            if best[name] is None or us < best[name]:
                best[name] = us
            if fn is record:
                costs.append(per_sample(err))
    base = best["plain"]
    print("first write to an inherited page, Python child, %d pages (best of %d):"
          % (PAGES, ROUNDS))
    for name, _ in setups:
        print("  %-28s %6.2f us  %+6.2f us  x%.2f" % (name, best[name], best[name] - base,
                                                      best[name] / base))
    unw = [c[0] for c in costs if c[0] is not None]
    py = [c[1] for c in costs if c[1] is not None]
    if unw:
        print("  reader per sample: %.1f us unwinding, %.1f us Python frames (best round)"
              % (min(unw), min(py)))


def cpu_ms(pid):
    """CPU time of pid's threads so far, in ms."""
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
            x = f.read().rsplit(")", 1)[1].split()
        total += int(x[11]) + int(x[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def rps(port, path, requests, duration):
    out = subprocess.run([PYTHON, LOAD, "--port", str(port), "--path", path,
                          "--requests", str(requests), "--duration", str(duration),
                          "--concurrency", "2"], capture_output=True, text=True,
                         timeout=600).stdout
    return float(re.search(r"rps ([\d.]+)", out).group(1))


def attached(g, mode):
    """cowprof record --faults on g (mode "with", or "period N" with
    --fault-period N; "no --faults": the recorder alone), past its start-up
    (first sample, symbol tables), or None."""
    if mode == "without":
        return None
    if mode == "no --faults":
        c, first = record(g.pid, faults=False), ""
    else:
        c = record(g.pid, *(("--fault-period", mode.split()[1]) if mode.startswith("period")
                            else ()))
        first = c.stderr.readline()
    time.sleep(1.5)
    if c.poll() is not None:
        sys.exit("cowprof record did not start: " + first + c.stderr.read())
    return c


def part2():
    first = {"without": [], "no --faults": [], "with": [], "period auto": [],
             "period 32": []}
    order = list(first)
    shuffle = random.Random(1).shuffle
    for _ in range(ROUNDS):
        shuffle(order)  # a mode does not always follow the same one
        for mode in order:
            with Gunicorn("conf_preload.py", workers=2, items=200000) as g:
                if mode == "without":
                    time.sleep(1.5)
                c = attached(g, mode)
                first[mode].append(rps(g.port, "/touch", 12, 300))
                if c:
                    c.send_signal(signal.SIGINT)
                    c.communicate(timeout=60)
    settled = {"without": [], "no --faults": [], "with": [], "period auto": []}
    cpu_share = {"no --faults": [], "with": [], "period auto": []}
    with Gunicorn("conf_preload.py", workers=2, items=200000) as g:
        rps(g.port, "/touch", 40, 300)  # every page the requests write is copied
        for _ in range(ROUNDS):
            for mode in settled:
                c = attached(g, mode)
                if not c:
                    time.sleep(1.5)
                t0, c0 = time.time(), cpu_ms(c.pid) if c else 0
                settled[mode].append(rps(g.port, "/touch", 100000, 3))
                if c:
                    cpu_share[mode].append((cpu_ms(c.pid) - c0) /
                                           ((time.time() - t0) * 1000 * os.cpu_count()))
                    c.send_signal(signal.SIGINT)
                    c.communicate(timeout=60)
    print("gunicorn conf_preload, 2 workers, 200,000 items, /touch (best and median "
          "of %d):" % ROUNDS)
    for name, d in (("first writes (fresh tree, 12 requests)", first),
                    ("settled (3 s runs)", settled)):
        print("  " + name)
        for mode in d:
            if mode != "without":
                # each round's runs follow one another: the median of the
                # rounds' own ratios is the least moved by the machine's drift
                paired = statistics.quantiles(
                    [w / wo - 1 for w, wo in zip(d[mode], d["without"])], n=4)
                print("    %-12s" % mode, "   ".join(
                    "%s %6.1f rps without, %6.1f with: %+.1f%%"
                    % (k, f(d["without"]), f(d[mode]),
                       (f(d[mode]) - f(d["without"])) / f(d["without"]) * 100)
                    for k, f in (("best", max), ("median", statistics.median))),
                    "   rounds' own ratios: median %+.1f%% (quartiles %+.1f%%, %+.1f%%)"
                    % (paired[1] * 100, paired[0] * 100, paired[2] * 100))
    for mode, shares in cpu_share.items():
        print("  settled, cowprof's own CPU (%s): %.2f%% of the machine's %d CPUs (median)"
              % (mode, statistics.median(shares) * 100, os.cpu_count()))


if __name__ == "__main__":
    try:
        part1()
        part2()
    finally:
        subprocess.run(["rm", "-rf", TMP])
