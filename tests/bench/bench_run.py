#!/usr/bin/python3
"""Fault attribution cost under load: the gunicorn sample (preload, 4
workers) started plainly and under `cowprof run` (libcowprof_preload.so
catching every first write), in alternating rounds of the same run.

Two figures per setup:
  first pass   seconds for 8 concurrent /touch requests right after start:
               each reads the whole dict, so nearly every page a worker
               touches is a first write (the library's worst case);
  settled      requests per second of / under wrk once two more /touch
               passes have copied what the workers copy.
Prints figures and ratios; no assertion. Target: settled <= 10% fewer."""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_recorder import APP, COWPROF, ROUNDS, SECONDS, free_port, wait_ready  # noqa: E402

ITEMS = os.environ.get("BENCH_ITEMS", "300000")


def start(port, run_path):
    cmd = ["/usr/bin/python3", "-m", "gunicorn", "-c", os.path.join(APP, "conf_preload.py"),
           "-b", "127.0.0.1:%d" % port, "app:app"]
    if run_path:
        cmd = [COWPROF, "run", "-i", "1", "-o", run_path, "--"] + cmd
    env = dict(os.environ, COWPROF_DATA_ITEMS=ITEMS)
    p = subprocess.Popen(cmd, cwd=APP, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_ready(port)
    time.sleep(1)   # all four workers up
    return p


def touch_pass(port, n=8):
    t0 = time.time()
    subprocess.run(["/usr/bin/python3", os.path.join(APP, "load.py"), "--port", str(port),
                    "--path", "/touch", "--requests", str(n), "--concurrency", "4"],
                   check=True, capture_output=True)
    return time.time() - t0


def wrk_rps(port):
    out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", "%ds" % SECONDS,
                          "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, timeout=SECONDS + 60).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def one_round(tmp, with_run):
    port = free_port()
    path = os.path.join(tmp, "run-%d.db" % time.time_ns()) if with_run else None
    p = start(port, path)
    try:
        first = touch_pass(port)
        touch_pass(port)
        touch_pass(port)
        rps = wrk_rps(port)
    finally:
        p.terminate()
        p.wait(60)
    faults = None
    if path:
        out = subprocess.run([COWPROF, "report", "--format", "json", path],
                             capture_output=True, text=True).stdout
        import json
        f = json.loads(out)["faults"]
        faults = f["pages"] if f else 0
    return first, rps, faults


def main():
    tmp = tempfile.mkdtemp(prefix="cowprof-bench-run-")
    res = {False: [], True: []}
    for _ in range(ROUNDS):
        for with_run in (False, True):
            res[with_run].append(one_round(tmp, with_run))
    plain_first = min(r[0] for r in res[False])
    run_first = min(r[0] for r in res[True])
    plain_rps = statistics.median(r[1] for r in res[False])
    run_rps = statistics.median(r[1] for r in res[True])
    faults = max(r[2] for r in res[True])
    print("bench_run: gunicorn preload, %s items, 4 workers, %d rounds" % (ITEMS, ROUNDS))
    print("  first /touch pass (8 requests): plain %.2f s, under cowprof run %.2f s "
          "(%.2fx; %d first writes recorded with stacks)" %
          (plain_first, run_first, run_first / plain_first, faults))
    print("  settled, wrk on /: plain %.0f rps, under cowprof run %.0f rps (%+.1f%%; "
          "target >= -10%%)" % (plain_rps, run_rps, (run_rps / plain_rps - 1) * 100))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
