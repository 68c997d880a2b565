#!/usr/bin/python3
"""The same large structure passed to a child started with `fork` and with
`spawn`, measured by psutil and by cowprof side by side.

What it shows: the parent builds a dict of --items entries (650,000 by
default: ~200 MiB of small Python objects, shaped as the table of
samples/gunicorn/app.py) and passes it as the argument of two
multiprocessing children, one per start method. The fork child inherits
it: the same physical pages as the parent, nothing copied. The spawn child
is a new interpreter that receives the dict pickled through a pipe and
rebuilds it: ~260 MiB of its own. psutil's memory_info() cannot tell them
apart: both children show about the same `rss`, and its `shared` (RssFile +
RssShmem: file pages only) is a few MB for both, as if the fork child
shared nothing. cowprof's shared_with_parent_kb compares each child's page
frames with its parent's: ~all of the dict for the fork child, 0 for the
spawn child, which has it all as new_kb. With --touch each child first
does one read-only pass over the dict: reference counting then writes into
every object and the fork child's pages get copied (copied_kb grows,
shared_with_parent_kb drops).
The spawn child is started first: pickling the dict for it writes every
object's reference count in the parent, and with --methods fork,spawn that
copies most of the already running fork child's pages (cowprof counts a
page as copied whichever side wrote it).

Run it (as root, from the top of the tree, after `make`):

    /usr/bin/python3 samples/mp/fork_vs_spawn.py [--items N] [--touch]
    build/cowprof run -i 0.5 -o fvs.db -- /usr/bin/python3 samples/mp/fork_vs_spawn.py --hold 5

It runs build/cowprof snapshot --json on its own tree itself (when
build/cowprof exists) and prints both tools' figures in one table. With
--hold SEC the children stay alive SEC seconds after the table (for
`cowprof record -i 0.5 -d 20 -o x.db PID` or `cowprof top` from another
terminal; PID is the parent's, printed first). A line
`READY {json}` (pids, the dict's size) is printed as soon as both children
hold the dict, and `RESULT {json}` (all figures) at the end, for tests.
Ends by itself, or on SIGTERM (the children are ended first).
"""
import argparse
import json
import multiprocessing
import os
import sys
import time

from mputil import COWPROF, cowprof_snapshot, sigterm_exits

try:
    import psutil
except ImportError:  # Debian: apt-get install python3-psutil
    psutil = None


def build(n):
    # the shape of samples/gunicorn/app.py's table: str keys, tuple values
    # with a float and a list, ~200 bytes an entry
    return {"key-%d" % i: (i, float(i), [i, i + 1]) for i in range(n)}


def read_pass(data):
    total = 0
    for k, v in data.items():
        total += v[0]
    return total


def child(data, conn, touch):
    # fork: `data` is the parent's dict itself; spawn: a copy unpickled here
    if touch:
        read_pass(data)
    conn.send((os.getpid(), len(data)))
    try:
        conn.recv()  # the parent says when to end (or closes the pipe)
    except EOFError:
        pass


def rss_anon_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def psutil_figures(pid):
    if psutil is None:
        return None
    try:
        m = psutil.Process(pid).memory_info()
    except psutil.Error:
        return None
    return {"rss_kb": m.rss // 1024, "shared_kb": m.shared // 1024}


def mib(kb):
    return "%8.1f" % (kb / 1024.0) if kb is not None else "       -"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=650000,
                    help="entries in the dict (~320 bytes each; default 650000: ~200 MiB)")
    ap.add_argument("--methods", default="spawn,fork",
                    help="start methods, comma-separated, started in this order"
                    " (default spawn,fork; see the docstring for fork,spawn)")
    ap.add_argument("--touch", action="store_true",
                    help="each child does a read-only pass over the dict first")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="keep the children alive SEC seconds after measuring")
    ap.add_argument("--no-cowprof", action="store_true",
                    help="do not run build/cowprof (a test measures the tree itself)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds to wait for the children to be ready")
    a = ap.parse_args(argv)
    methods = [m for m in a.methods.split(",") if m]
    for m in methods:
        if m not in ("fork", "spawn", "forkserver"):
            ap.error("unknown start method %r" % m)

    sigterm_exits()
    print("parent %d" % os.getpid(), flush=True)
    before = rss_anon_kb()
    t0 = time.monotonic()
    data = build(a.items)
    data_kb = rss_anon_kb() - before
    print("built %d entries: %.1f MiB of anonymous memory in %.1f s"
          % (len(data), data_kb / 1024.0, time.monotonic() - t0), flush=True)

    kids = {}
    try:
        for m in methods:
            ctx = multiprocessing.get_context(m)
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=child, args=(data, theirs, a.touch), name="child-" + m)
            t0 = time.monotonic()
            p.start()  # spawn: pickles the whole dict here, in the parent
            theirs.close()
            kids[m] = {"proc": p, "conn": mine}
            if not mine.poll(a.timeout):
                raise RuntimeError("%s child not ready after %.0f s" % (m, a.timeout))
            pid, n = mine.recv()
            assert pid == p.pid and n == len(data), (pid, n)
            print("%-5s child %d holds the dict (ready in %.1f s)"
                  % (m, pid, time.monotonic() - t0), flush=True)
        pids = {m: k["proc"].pid for m, k in kids.items()}
        print("READY " + json.dumps({"parent": os.getpid(), "data_kb": data_kb,
                                     "items": len(data), **pids}), flush=True)

        rows = [("parent", os.getpid())] + [("%s child" % m, pid) for m, pid in pids.items()]
        ps = {pid: psutil_figures(pid) for _, pid in rows}
        snap = None if a.no_cowprof else cowprof_snapshot(os.getpid())
        cp = {p["pid"]: p for p in snap["processes"]} if snap else {}
        for pid, c in cp.items():  # spawn's resource tracker, for one
            if pid not in ps:
                rows.append(("tracker" if "resource_tracker" in c["cmd"] else "other", pid))
                ps[pid] = psutil_figures(pid)

        print()
        print("%-12s %7s | %-19s | %s" % ("", "", "psutil memory_info",
                                         "cowprof snapshot (MiB)"))
        print("%-12s %7s | %8s %10s | %8s %8s %8s %8s %8s"
              % ("process", "pid", "rss", "shared", "rss", "uss", "shared*", "copied", "new"))
        for name, pid in rows:
            pf = ps[pid] or {}
            c = cp.get(pid, {})
            print("%-12s %7d | %s %10s | %s %s %s %s %s"
                  % (name, pid, mib(pf.get("rss_kb")), mib(pf.get("shared_kb")),
                     mib(c.get("rss_kb")), mib(c.get("uss_kb")),
                     mib(c.get("shared_with_parent_kb")), mib(c.get("copied_kb")),
                     mib(c.get("new_kb"))))
        print("* shared_with_parent: the same physical pages as the parent's")
        if psutil is None:
            print("(psutil missing: apt-get install python3-psutil)")
        if not snap:
            print("(no cowprof figures: %s)" % ("--no-cowprof" if a.no_cowprof else
                                                "%s not built, or not root" % COWPROF))
        if snap:
            t = snap["tree"]
            print("tree: sum of RSS %.1f MiB, real memory (each page once) %.1f MiB"
                  % (t["rss_kb"] / 1024.0, t["unique_kb"] / 1024.0))
        result = {"parent": os.getpid(), "items": len(data), "data_kb": data_kb,
                  "touch": a.touch, "processes": []}
        for name, pid in rows:
            result["processes"].append({"role": name, "pid": pid, "psutil": ps[pid],
                                        "cowprof": cp.get(pid)})
        sys.stdout.flush()
        if a.hold > 0:
            print("holding the children for %.0f s" % a.hold, flush=True)
            time.sleep(a.hold)
        print("RESULT " + json.dumps(result), flush=True)
    finally:
        for k in kids.values():
            try:
                k["conn"].send("end")
            except OSError:
                pass
        for k in kids.values():
            k["proc"].join(10)
            if k["proc"].exitcode is None:
                k["proc"].kill()
                k["proc"].join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
