#!/usr/bin/python3
"""How long `cowprof report` takes on a day's session: 4 processes sampled
every second for 24 hours (86,400 samples, 345,600 process rows), built
from a real recording's schema with its rows repeated. Prints the median
of 5 runs per format; target: text <= 0.5 s. No assertion."""
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COWPROF = os.path.join(ROOT, "build", "cowprof")
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "86400"))
RUNS = 5


def day_session(path):
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.1", "-o", path, "--",
                        "sh", "-c", "sleep 0.5 & sleep 0.5 & sleep 0.5 & wait"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit("bench_report_day: recording failed: " + r.stderr.strip())
    c = sqlite3.connect(path)
    t0 = c.execute("SELECT min(t) FROM samples").fetchone()[0]
    c.execute("DELETE FROM proc_samples")
    c.execute("DELETE FROM samples")
    c.execute("UPDATE processes SET exit_time = 0, exit_code = NULL, exit_signal = NULL")
    c.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
              " INSERT INTO samples SELECT i, ? + i, 0.01, 4, 400000, 300000, 200000, 0,"
              " 350000 FROM n", (SAMPLES, t0))
    c.execute("INSERT INTO proc_samples SELECT p.id, s.id, 'S', 100000 + s.id % 1000, 80000,"
              " 50000, 0, 90000, 0, 10000, CASE WHEN p.parent_id IS NULL THEN 0"
              " ELSE 60000 - s.id % 1000 END, CASE WHEN p.parent_id IS NULL THEN 0"
              " ELSE 20000 + s.id % 1000 END, 10000, 70000 FROM processes p, samples s")
    c.execute("UPDATE meta SET value = ? WHERE key = 'ended'", (str(t0 + SAMPLES),))
    c.commit()
    c.close()


def main():
    tmp = tempfile.mkdtemp(prefix="cowprof-bench-day-")
    try:
        path = os.path.join(tmp, "day.db")
        day_session(path)
        print("report of a day's session: %d samples of 4 processes, %.1f MiB"
              % (SAMPLES, os.path.getsize(path) / 2**20))
        for fmt in ("text", "json", "html"):
            times = []
            for _ in range(RUNS):
                t = time.monotonic()
                subprocess.run([COWPROF, "report", "--format", fmt, path],
                               stdout=subprocess.DEVNULL, check=True)
                times.append(time.monotonic() - t)
            print("  %-5s median %.2f s (min %.2f, max %.2f)%s" % (
                fmt, statistics.median(times), min(times), max(times),
                "   target <= 0.5 s" if fmt == "text" else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
