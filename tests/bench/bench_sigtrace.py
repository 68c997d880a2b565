#!/usr/bin/python3
"""Cost of the signal/OOM/exit tracepoints (collectors/sigtrace) on a busy
machine: the same workloads with the events closed and open (build/sigwatch
--quiet, system-wide, every CPU), alternating in one run so drift hits both
alike. Workloads (rates per CPU second of the workload): a fork/exit loop (each iteration fires sched_process_exit
and a SIGCHLD signal_generate: the worst case for these events) and gunicorn
requests per second under wrk; and the cost of one event, from a loop of
kill(self, SIGWINCH) (ignored: one signal_generate each, nothing else).
The machine is shared and noisy: each line gives the best run of each
setup (best-of, as in docs/kernel.md) and the median ratio of adjacent
closed/open pairs. Prints figures and ratios; no assertion.
Target: no measurable difference."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_recorder as br  # noqa: E402  (gunicorn and wrk helpers)

ROOT = br.ROOT
SIGWATCH = os.path.join(ROOT, "build", "sigwatch")
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

# Rates per CPU second of the workload (its own and its children's user +
# system time), so that other work on the machine does not blur them; the
# events' cost in the kernel is charged to the task that fires them.
FORK_LOOP = """
import os, sys, time
end = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < end:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    n += 1
t = os.times()
print(n / (t.user + t.system + t.children_user + t.children_system))
"""


class Events:
    """build/sigwatch --quiet: the tracepoints open and drained, or nothing."""

    def __init__(self, on, filt=None):
        self.proc = None
        if on:
            args = [SIGWATCH, "--quiet"] + (["--filter", filt] if filt else [])
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
            ready = json.loads(self.proc.stdout.readline())
            if "error" in ready:
                raise RuntimeError(ready["error"])

    def close(self):
        """Stop; returns (records seen, records lost) or None."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        end = json.loads(self.proc.stdout.read().splitlines()[-1])
        self.proc.wait(10)
        return end["records"], end["lost"]


KILL_LOOP = """
import os, signal, sys, time
n = int(sys.argv[1])
pid = os.getpid()
t = time.process_time()
for _ in range(n):
    os.kill(pid, signal.SIGWINCH)
print(n / (time.process_time() - t))
"""


def kill_rate():
    out = subprocess.run(["/usr/bin/python3", "-c", KILL_LOOP, "300000"],
                         capture_output=True, text=True, timeout=120).stdout
    return float(out)


def fork_rate():
    out = subprocess.run(["/usr/bin/python3", "-c", FORK_LOOP, str(SECONDS)],
                         capture_output=True, text=True, timeout=SECONDS + 30).stdout
    return float(out)


def run(workload, results, seen, rounds=ROUNDS, filt=None):
    for _ in range(rounds):
        for on in (False, True):
            ev = Events(on, filt)
            try:
                results[on].append(workload())
            finally:
                counts = ev.close()
            if counts:
                seen.append(counts)


def report(title, unit, results, seen):
    off, on = max(results[False]), max(results[True])
    pairs = statistics.median(b / a for a, b in zip(results[False], results[True]))
    records = sum(c[0] for c in seen) / max(len(seen), 1)
    lost = sum(c[1] for c in seen)
    print(title)
    print("  %-14s best %10.1f %s  (runs: %s)" % ("events closed", off, unit,
                                                  " ".join("%.0f" % x for x in results[False])))
    print("  %-14s best %10.1f %s  (runs: %s)" % ("events open", on, unit,
                                                  " ".join("%.0f" % x for x in results[True])))
    print("  difference: best %+.1f%%, median of pairs %+.1f%%  (%.0f records per open run, "
          "%d lost)" % ((on / off - 1) * 100, (pairs - 1) * 100, records, lost))
    return off, on


def main():
    if not os.path.exists(SIGWATCH):
        print("bench_sigtrace: build/sigwatch missing (make builds it)")
        return 0
    try:
        Events(True).close()
    except RuntimeError as e:
        print("bench_sigtrace: tracepoints unavailable: %s" % e)
        return 0
    print("sigtrace benchmark: signal_generate + mark_victim + sched_process_exit, "
          "system-wide, %d CPUs; %ds x %d rounds, alternating" % (os.cpu_count(), SECONDS,
                                                                  ROUNDS))
    results, seen = {False: [], True: []}, []
    run(kill_rate, results, seen, rounds=max(ROUNDS, 5))
    off, on = report("kill(self, SIGWINCH) loop (python)", "kills/cpu-s", results, seen)
    print("  cost per signal_generate record: %.2f us of CPU (1/open - 1/closed)"
          % ((1 / on - 1 / off) * 1e6))
    results, seen = {False: [], True: []}, []
    run(kill_rate, results, seen, rounds=max(ROUNDS, 5), filt="sig != 28")
    off, on = report("the same, with a kernel filter rejecting SIGWINCH (sig != 28)",
                     "kills/cpu-s", results, seen)
    print("  cost per rejected signal_generate: %.2f us of CPU" % ((1 / on - 1 / off) * 1e6))
    results, seen = {False: [], True: []}, []
    run(fork_rate, results, seen)
    report("fork/exit loop (python os.fork + _exit + waitpid)", "forks/cpu-s", results, seen)
    if not shutil.which("wrk"):
        print("gunicorn: wrk is not installed (make deps-test installs it)")
        return 0
    port = br.free_port()
    env = dict(os.environ, COWPROF_DATA_ITEMS=os.environ.get("COWPROF_DATA_ITEMS", "100000"))
    g = subprocess.Popen(["/usr/bin/python3", "-m", "gunicorn", "-c", "conf_preload.py",
                          "-w", "4", "-b", "127.0.0.1:%d" % port, "app:app"], cwd=br.APP,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        br.wait_ready(port)
        br.SECONDS = SECONDS
        br.wrk_rps(port)  # warm up
        results, seen = {False: [], True: []}, []
        run(lambda: br.wrk_rps(port), results, seen)
        report("gunicorn preload, 4 workers, wrk -t2 -c8 on GET /", "req/s", results, seen)
    finally:
        g.send_signal(signal.SIGTERM)
        g.wait(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
