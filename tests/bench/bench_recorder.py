#!/usr/bin/python3
"""Recorder cost benchmark: requests per second of the gunicorn sample
(preload, 4 workers, a ~200 MB dict) under wrk, without cowprof and with
`cowprof record -i 1` and `-i 0.1` attached, in the same run. Rounds
alternate the three setups so drift on a noisy machine hits them alike.
Prints figures and ratios; no assertion. Target: <= 1% at -i 1."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "samples", "gunicorn")
COWPROF = os.path.join(ROOT, "build", "cowprof")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def wrk_rps(port):
    out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", "%ds" % SECONDS,
                          "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, timeout=SECONDS + 60).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def measure(port, master, setup, tmp):
    """setup: None (no cowprof), "1", "0.1" (the interval), or "1 no-perf":
    -i 1 with the signal tracepoints off (COWPROF_NO_PERF=1), so that the
    tracepoints' cost shows as the difference with "1" in the same run."""
    if setup is None:
        return wrk_rps(port), None
    interval, _, mode = setup.partition(" ")
    env = dict(os.environ, COWPROF_NO_PERF="1") if mode == "no-perf" else None
    path = os.path.join(tmp, "bench-%s-%d.db" % (interval, time.time_ns()))
    rec = subprocess.Popen([COWPROF, "record", "-i", interval, "-o", path, str(master)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=env)
    time.sleep(0.5)
    rps = wrk_rps(port)
    rec.send_signal(signal.SIGINT)
    rec.wait(30)
    return rps, path


def main():
    if not shutil.which("wrk"):
        print("bench_recorder: wrk is not installed (make deps-test installs it)")
        return 0
    port = free_port()
    env = dict(os.environ, COWPROF_DATA_ITEMS=os.environ.get("COWPROF_DATA_ITEMS", "1000000"))
    g = subprocess.Popen(["/usr/bin/python3", "-m", "gunicorn", "-c", "conf_preload.py", "-w", "4",
                          "-b", "127.0.0.1:%d" % port, "app:app"], cwd=APP, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="cowprof-bench-")
    setups = (None, "1", "0.1", "1 no-perf")
    results = {k: [] for k in setups}
    try:
        wait_ready(port)
        wrk_rps(port)  # warm up
        for _ in range(ROUNDS):
            for setup in setups:
                rps, _ = measure(port, g.pid, setup, tmp)
                results[setup].append(rps)
    finally:
        g.send_signal(signal.SIGTERM)
        g.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(results[None])
    print("recorder benchmark: gunicorn preload, 4 workers, wrk -t2 -c8 %ds x %d rounds on GET /"
          % (SECONDS, ROUNDS))
    print("%-26s %12s %10s" % ("", "median rps", "vs none"))
    for setup, name in ((None, "no cowprof"), ("1", "cowprof record -i 1"),
                        ("0.1", "cowprof record -i 0.1"),
                        ("1 no-perf", "  -i 1, tracepoints off")):
        med = statistics.median(results[setup])
        print("%-26s %12.1f %9.1f%%" % (name, med, (med / base - 1) * 100))
    on, off = statistics.median(results["1"]), statistics.median(results["1 no-perf"])
    print("signal/OOM tracepoints on vs off (record -i 1, same run): %+.1f%% rps"
          % ((on / off - 1) * 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
