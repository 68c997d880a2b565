#!/usr/bin/python3
"""Load generator for the gunicorn sample (standard library only).

    /usr/bin/python3 samples/gunicorn/load.py --port 8000 [--path /touch]
        [--requests 1000] [--concurrency 4] [--duration 60] [--timeout 30] [--json]

C threads send GET requests to 127.0.0.1:PORT (one connection per request:
gunicorn's sync workers close each connection) until N requests have been
sent or SEC seconds have passed, whichever comes first. A request that is
running when the time is up is finished, not abandoned, so the run can
exceed SEC by at most one request (bounded by --timeout). Then it prints one
line:

    requests 1000 errors 0 seconds 12.34 rps 81.0

(rps counts successful requests only) and exits 0: errors are counted, not
fatal, since a load run is a measurement. --json prints the same figures as
one JSON object instead.
"""
import argparse
import http.client
import json
import sys
import threading
import time

HOST = "127.0.0.1"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--requests", type=int, default=1000, help="at most N requests (default 1000)")
    ap.add_argument("--concurrency", type=int, default=4, help="C requests in flight (default 4)")
    ap.add_argument("--duration", type=float, default=60.0,
                    help="stop sending after SEC seconds (default 60)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds one request may take (default 30)")
    ap.add_argument("--json", action="store_true", help="print a JSON object")
    a = ap.parse_args(argv)
    if a.requests < 0 or a.concurrency < 1 or a.duration <= 0 or a.timeout <= 0:
        ap.error("--requests >= 0, --concurrency >= 1, --duration and --timeout > 0")
    if not a.path.startswith("/"):
        ap.error("--path must start with /")
    return a


def get(port, path, timeout):
    """One request; True when the server answered 200."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    finally:
        conn.close()


def run(port, path="/", requests=1000, concurrency=4, duration=60.0, timeout=30.0):
    """Send the load; returns {"requests", "errors", "seconds", "rps"}."""
    lock = threading.Lock()
    state = {"sent": 0, "done": 0, "errors": 0}
    t0 = time.monotonic()
    deadline = t0 + duration

    def worker():
        while True:
            with lock:
                if state["sent"] >= requests or time.monotonic() >= deadline:
                    return
                state["sent"] += 1
            try:
                ok = get(port, path, timeout)
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                state["done"] += 1
                if not ok:
                    state["errors"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        # each thread stops at the deadline after at most one request
        t.join(duration + timeout + 5)
    seconds = time.monotonic() - t0
    with lock:
        done, errors = state["done"], state["errors"]
    return {"requests": done, "errors": errors, "seconds": round(seconds, 3),
            "rps": round((done - errors) / seconds, 1) if seconds > 0 else 0.0}


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    r = run(a.port, a.path, a.requests, a.concurrency, a.duration, a.timeout)
    if a.json:
        print(json.dumps(r))
    else:
        print("requests %d errors %d seconds %.2f rps %.1f"
              % (r["requests"], r["errors"], r["seconds"], r["rps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
