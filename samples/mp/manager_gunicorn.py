#!/usr/bin/python3
"""A multiprocessing Manager started in the gunicorn master: kill a worker
and its replacement hangs for ever in post_fork.

What it shows (Debian's gunicorn 20.1.0, Python 3.11): the master
(manager_gunicorn_conf.py, on_starting) makes a Manager server with
get_server() -- the listening unix socket is created in the master -- and
serves it from a daemon multiprocessing.Process, the "data process", a child
of the master. Each worker connects to it in post_fork and registers in a
Manager dict and queue (manager_gunicorn_app.py). Then this driver SIGTERMs
one worker, as a deploy, `kill`, or max_requests would end it:

1. the worker exits through Python's atexit, which runs the multiprocessing
   handler it inherited from the master: the data process is in its list of
   children and is a daemon, so it is terminated: SIGTERM, from the worker;
2. the master reaps the data process and logs it as "Worker with pid N was
   terminated due to signal 15" (it is not a worker);
3. the master forks a replacement worker, whose post_fork connects to the
   Manager. connect() succeeds -- the listening socket still exists, the
   master and the workers inherited it -- but nobody will ever accept, so it
   waits for the authentication challenge for ever: /proc/PID/wchan reads
   unix_stream_read_generic, and the worker never serves a request;
4. every worker that exits from then on hangs too: at exit its Manager
   proxies' finalizers connect to the Manager again (to decref) and block
   the same way, after gunicorn's "Worker exiting" line;
5. so on shutdown no worker ends by itself (the stuck one ignores SIGTERM
   anyway: it still runs the master's signal handlers, which gunicorn
   replaces only after post_fork): gunicorn SIGKILLs them all after
   graceful_timeout (3 s here).

With --signal KILL there is no atexit, the data process survives and the
replacement boots normally: the contrast.

Run it (as root, from the top of the tree):

    /usr/bin/python3 samples/mp/manager_gunicorn.py
    build/cowprof run -i 0.2 -o manager.db -- /usr/bin/python3 samples/mp/manager_gunicorn.py
    sqlite3 manager.db "SELECT pid, kind, detail FROM events WHERE kind IN ('fork','exit')"

or start it with --pause 10 and `cowprof record -i 0.5 -d 20 -o x.db MASTER`
from another terminal (the master's pid is printed first). cowprof's
session shows: the data process (a child of the master) "killed by SIGTERM"
(processes.exit_signal 15) right after the worker's "exit 0", the
replacement worker forked at the same moment and alive, sleeping (state S),
with the memory of a worker that never loaded its app, until it is "killed
by SIGKILL" at shutdown, as is the surviving worker.

Prints the tree, the replacement's wchan over --watch seconds, the relevant
gunicorn log lines and a last line `RESULT {json}` for tests. Exit status 0
when the outcome is the expected one (hang after TERM/INT/QUIT, no hang
after KILL), 1 otherwise. Ends by itself after about --pause + --watch + 5
seconds, or on SIGTERM; every process it started is ended, by pid.
"""
import argparse
import json
import re
import signal
import sys
import time

from mputil import Gunicorn, alive, kill, sigterm_exits, state, wchan

STUCK_WCHAN = "unix_stream_read_generic"


def logged(g, pattern):
    return [m.groups() for m in re.finditer(pattern, g.log())]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--signal", default="TERM", choices=["TERM", "INT", "QUIT", "KILL"],
                    help="how the worker is killed (default TERM)")
    ap.add_argument("--pause", type=float, default=1.0,
                    help="seconds to wait between start-up and the kill")
    ap.add_argument("--watch", type=float, default=3.0,
                    help="seconds to watch the replacement worker")
    a = ap.parse_args(argv)
    sig = getattr(signal, "SIG" + a.signal)

    sigterm_exits()
    result = {"signal": a.signal}
    g = Gunicorn("manager_gunicorn_conf.py", "manager_gunicorn_app:app", a.workers)
    try:
        result["master"] = g.pid
        print("gunicorn master %d on 127.0.0.1:%d" % (g.pid, g.port), flush=True)

        def registered():
            return logged(g, r"post_fork (\d+): registered")

        g.wait(lambda: len(registered()) >= a.workers and g.get("/health") == b"ok")
        data = int(logged(g, r"data process (\d+) serving")[0][0])
        workers = [w for w in g.children() if w != data]
        result.update(data=data, workers=workers)
        print("data process %d (child of the master), workers %s, all registered"
              % (data, " ".join(map(str, workers))))
        print("  a request says: %s" % g.get("/").decode().strip())
        time.sleep(a.pause)

        victim = workers[0]
        result["killed"] = victim
        kill(victim, sig)
        print("SIG%s to worker %d" % (a.signal, victim), flush=True)

        def respawned():
            return [p for p in g.children() if p != data and p not in workers]

        g.wait(lambda: not alive(victim) and respawned(), timeout=20,
               what="the replacement worker")
        new = respawned()[0]
        result["respawned"] = new
        time.sleep(0.5)  # the data process dies within milliseconds, if it does
        result["data_alive"] = alive(data)
        ended = [int(p) for p, s in logged(g, r"Worker with pid (\d+) was terminated due to "
                                              r"signal (\d+)") if int(p) == data]
        print("replacement worker %d forked; data process %s" % (
            new, "still alive" if result["data_alive"] else
            "gone (gunicorn: \"Worker with pid %d was terminated due to signal 15\")" % data
            if ended else "gone"))

        seen = []
        end = time.time() + a.watch
        while time.time() < end and alive(new):
            seen.append(wchan(new))
            print("  worker %d: state %s, wchan %s" % (new, state(new), seen[-1]), flush=True)
            time.sleep(0.5)
        booted = any(int(p) == new for (p,) in registered())
        result["respawned_wchan"] = seen[-1] if seen else ""
        result["respawned_registered"] = booted
        result["stuck"] = (alive(new) and not booted and len(seen) >= 2
                           and all(w == STUCK_WCHAN for w in seen))
        result["children"] = g.children()
        if result["stuck"]:
            print("worker %d is stuck in post_fork, blocked in %s reading its Manager"
                  " connection; it will never serve a request" % (new, STUCK_WCHAN))
        else:
            print("worker %d %s" % (new, "booted and registered" if booted else
                                     "did not register but is not blocked as expected"))
        print("SIGTERM to the master %d" % g.pid, flush=True)
        workers_now = [p for p in g.children() if p != data]
        kill(g.pid, signal.SIGTERM)
        time.sleep(1.0)
        result["shutdown_wchan"] = {}
        for p in workers_now:
            result["shutdown_wchan"][p] = wchan(p) if alive(p) else "exited"
            print("  1 s later, worker %d: %s" % (p, result["shutdown_wchan"][p]))
    finally:
        print("stopping gunicorn (master %d)" % g.pid, flush=True)
        g.stop()
        print("gunicorn's log:")
        for line in g.log().splitlines():
            if "cowprof sample" in line or "terminated due to signal" in line \
                    or "Worker exiting" in line or "Booting worker" in line:
                print("  " + line)
        g.cleanup()
        result["master_status"] = g.proc.returncode
    print("RESULT " + json.dumps(result), flush=True)
    expected = result.get("stuck") == (a.signal != "KILL")
    return 0 if expected else 1


if __name__ == "__main__":
    sys.exit(main())
