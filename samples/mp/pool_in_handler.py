#!/usr/bin/python3
"""A multiprocessing.Pool created inside a request handler of a gunicorn
worker: 4 workers x 4 pool processes appear and vanish with every request.

What it shows: Debian's gunicorn runs pool_in_handler_app.py with
--workers workers; its /work handler makes a fork Pool of 4 processes for
each request, maps 8 short tasks over it, closes and joins it. This driver
sends --requests requests, --concurrency at a time (bounded in count and
time), so up to workers x 4 pool processes exist at once, each a fork of a
worker, itself a fork of the master: a tree three levels deep that churns
(every request pays for 4 forks and 4 exits, and each pool process inherits
the worker's whole memory -- here a table of POOL_DATA_ITEMS entries --
shared until it writes). A pool per request multiplies processes under
load; a pool made once per worker (after fork), or no pool at all in a
pre-fork server, is the fix.

Run it (as root, from the top of the tree):

    /usr/bin/python3 samples/mp/pool_in_handler.py [--requests 8] [--concurrency 4]
    build/cowprof run -i 0.2 -o pool.db -- /usr/bin/python3 samples/mp/pool_in_handler.py
    sqlite3 pool.db "SELECT w.pid AS worker, count(*) AS pool_processes
        FROM processes p JOIN processes w ON w.id = p.parent_id
        JOIN processes m ON m.id = w.parent_id WHERE m.cmd LIKE '%gunicorn%'
        GROUP BY w.pid"

or start it with --pause 10 and `cowprof record -i 0.5 -d 20 -o x.db MASTER`
from another terminal (the master's pid is printed first). cowprof's
session shows requests x 4 pool processes forked under the workers, each
exiting with status 0 a fraction of a second later, sharing nearly all of
its worker's memory while it lives; the tree's process count and sum of
RSS jump with every wave of requests while its real memory barely moves.

Prints what each request's pool was and a last line `RESULT {json}` for
tests. Ends by itself (requests bounded by --requests and --duration), or
on SIGTERM; every process it started is ended, by pid.
"""
import argparse
import json
import sys
import threading
import time
import urllib.request

from mputil import Gunicorn, children, sigterm_exits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--duration", type=float, default=30.0,
                    help="stop sending requests after SEC seconds")
    ap.add_argument("--pause", type=float, default=0.5,
                    help="seconds to wait before and after the requests")
    ap.add_argument("--data-items", type=int, default=100000,
                    help="entries of each worker's table (POOL_DATA_ITEMS)")
    a = ap.parse_args(argv)

    sigterm_exits()
    result = {"requests": 0, "errors": 0, "responses": []}
    g = Gunicorn("pool_in_handler_conf.py", "pool_in_handler_app:app", a.workers,
                 env={"POOL_DATA_ITEMS": str(a.data_items)})
    try:
        result["master"] = g.pid
        print("gunicorn master %d on 127.0.0.1:%d" % (g.pid, g.port), flush=True)
        g.wait(lambda: len(g.children()) == a.workers and g.get("/health") == b"ok")
        workers = g.children()
        result["workers"] = workers
        print("workers %s" % " ".join(map(str, workers)), flush=True)
        time.sleep(a.pause)

        lock = threading.Lock()
        left = [a.requests]
        deadline = time.monotonic() + a.duration
        stop = threading.Event()
        peak = [0]

        def client():
            while True:
                with lock:
                    if left[0] <= 0 or time.monotonic() >= deadline:
                        return
                    left[0] -= 1
                try:
                    url = "http://127.0.0.1:%d/work" % g.port
                    with urllib.request.urlopen(url, timeout=30) as r:
                        body = json.loads(r.read())
                    with lock:
                        result["requests"] += 1
                        result["responses"].append(body)
                    print("  worker %d ran its request on pool %s"
                          % (body["worker"], " ".join(map(str, body["pool"]))), flush=True)
                except (OSError, ValueError) as e:
                    with lock:
                        result["requests"] += 1
                        result["errors"] += 1
                    print("  request failed: %s" % e, flush=True)

        def watch():  # how many pool processes live at once under the workers
            while not stop.is_set():
                peak[0] = max(peak[0], sum(len(children(w)) for w in workers))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t0 = time.monotonic()
        clients = [threading.Thread(target=client, daemon=True) for _ in range(a.concurrency)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(a.duration + 35)
        stop.set()
        watcher.join(5)
        seconds = time.monotonic() - t0
        pool_pids = sorted({p for r in result["responses"] for p in r["pool"]})
        served_by = sorted({r["worker"] for r in result["responses"]})
        result.update(seconds=round(seconds, 2), pool_pids=pool_pids, served_by=served_by,
                      peak_pool_processes=peak[0])
        print("%d requests (%d errors) in %.1f s: %d pool processes forked by %d workers,"
              " at most %d alive at once"
              % (result["requests"], result["errors"], seconds, len(pool_pids),
                 len(served_by), peak[0]))
        time.sleep(a.pause)
    finally:
        g.stop()
        g.cleanup()
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if result["requests"] and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
