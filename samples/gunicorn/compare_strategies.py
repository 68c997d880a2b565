#!/usr/bin/python3
"""Record the gunicorn sample under each memory strategy with the same load,
then compare them with cowprof:

    /usr/bin/python3 samples/gunicorn/compare_strategies.py [--seconds 60]
        [--out DIR] [--configs conf_nopreload.py,conf_preload.py,conf_freeze.py]
        [--no-touch] [--no-compare] [--live]

For each config: start gunicorn (4 workers, 127.0.0.1 only), attach
`cowprof record -i 1`, send light traffic to / the whole time, 8 requests to
/gc a third of the way in (the collector writes to every object it visits)
and 8 to /touch two thirds in (a read-only pass: reference counts are
written; --no-touch leaves it out), stop. Then `cowprof compare` the sessions. Every process it starts
is ended by pid."""
import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COWPROF = os.path.join(ROOT, "build", "cowprof")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=60) as r:
            return r.read()
    except OSError:
        return None


def wait_ready(port, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if get(port, "/health") == b"ok":
            return True
        time.sleep(0.3)
    return False


def traffic(port, seconds, stop, touch=True):
    """Light load on / with bursts of /gc and /touch at 1/3 and 2/3."""
    start = time.time()
    marks = [(seconds / 3, "/gc")] + ([(2 * seconds / 3, "/touch")] if touch else [])
    while not stop.is_set() and time.time() - start < seconds:
        if marks and time.time() - start >= marks[0][0]:
            _, path = marks.pop(0)
            threads = [threading.Thread(target=get, args=(port, path)) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        get(port, "/")
        time.sleep(0.05)


def record(config, seconds, out, touch=True, live=False):
    port = free_port()
    g = subprocess.Popen(["/usr/bin/python3", "-m", "gunicorn", "-c", config, "-w", "4",
                          "-b", "127.0.0.1:%d" % port, "app:app"], cwd=HERE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = os.path.join(out, "cowprof-%s.db" % os.path.splitext(config)[0].replace("conf_", ""))
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    try:
        if not wait_ready(port):
            raise RuntimeError("%s: gunicorn did not start" % config)
        stop = threading.Event()
        if live:
            # the traffic runs behind the live TUI, which ends when the user quits
            t = threading.Thread(target=traffic, args=(port, seconds, stop, touch))
            t.start()
            subprocess.call([COWPROF, "top", "-i", "0.5", "-o", path, str(g.pid)])
            stop.set()
            t.join()
        else:
            rec = subprocess.Popen([COWPROF, "record", "-i", "1", "-d", str(seconds), "-o",
                                    path, str(g.pid)], stderr=subprocess.DEVNULL)
            traffic(port, seconds, stop, touch)
            rec.wait(seconds + 60)
    finally:
        g.send_signal(signal.SIGTERM)
        try:
            g.wait(60)
        except subprocess.TimeoutExpired:
            g.kill()
            g.wait()
    print("%s: recorded %s" % (config, path), file=sys.stderr)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--out", default=".")
    ap.add_argument("--configs", default="conf_nopreload.py,conf_preload.py,conf_freeze.py")
    ap.add_argument("--no-compare", action="store_true", help="only record")
    ap.add_argument("--no-touch", action="store_true",
                    help="no read-only pass over the data: only gc.collect()")
    ap.add_argument("--live", action="store_true",
                    help="watch in `cowprof top` (recording to the same file) until q")
    a = ap.parse_args()
    paths = [record(c, a.seconds, os.path.abspath(a.out), not a.no_touch, a.live)
             for c in a.configs.split(",")]
    if a.no_compare:
        return 0
    return subprocess.call([COWPROF, "compare"] + paths)


if __name__ == "__main__":
    sys.exit(main())
