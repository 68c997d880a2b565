#!/usr/bin/python3
"""A multiprocessing.Pool child SIGKILLed while it runs a task: the pool
never finishes the map.

What it shows: the parent builds a table (--items entries, ~200 bytes each),
starts a fork Pool of --processes children and map_async()s --tasks tasks of
--task-seconds each (chunksize 1). After --kill-after seconds it SIGKILLs
the first pool child, which is in the middle of a task (the OOM killer does
the same to a child that allocates too much). The pool replaces the dead
child (a new process appears), the other tasks complete, but the task the
dead child held is lost and nobody reports it: in Python 3.11,
map_async(...).get() waits for ever. This script bounds the wait with
get(timeout=--timeout), prints that it would have hung, terminates the pool
and exits 0 (1 if the result came back after all, which would mean the hang
no longer reproduces). (concurrent.futures.ProcessPoolExecutor raises
BrokenProcessPool in the same situation instead of hanging.)

Run it (as root, from the top of the tree):

    /usr/bin/python3 samples/mp/pool_child_killed.py
    build/cowprof run -i 0.2 -o killed.db -- /usr/bin/python3 samples/mp/pool_child_killed.py
    sqlite3 killed.db "SELECT pid, kind, detail FROM events WHERE kind IN ('fork','exit')"

cowprof's session shows the story: the pool children forked at the start,
one of them "killed by SIGKILL" (processes.exit_signal = 9) while the
parent keeps running, its replacement forked a moment later, the map never
completed, and the remaining children ending only when pool.terminate()
ends the pool after the timeout ("exit 0" on the end-of-work sentinel or
"killed by SIGTERM", whichever reaches them first). Each pool child shares
the parent's table (shared_with_parent_kb) and copies little of it (the
tasks do not read it).

The last line printed is `RESULT {json}` (pids, the killed child, its
replacement, whether get() timed out) for tests. Ends by itself after about
--kill-after + --timeout seconds, or on SIGTERM (the pool is terminated).
"""
import argparse
import json
import multiprocessing
import os
import signal
import sys
import time

from mputil import sigterm_exits


def task(seconds):
    time.sleep(seconds)
    return os.getpid()


def pool_pids(pool):
    # Pool keeps its processes in _pool (no public accessor); each is a Process
    return sorted(p.pid for p in pool._pool)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--task-seconds", type=float, default=1.0)
    ap.add_argument("--kill-after", type=float, default=0.5,
                    help="seconds after map_async before the SIGKILL")
    ap.add_argument("--timeout", type=float, default=5.0,
                    help="seconds get() waits before we call it a hang")
    ap.add_argument("--killer", choices=["self", "none"], default="self",
                    help="who kills the first pool child: this script, or "
                         "someone else (an operator's `kill -9`: the script only waits)")
    ap.add_argument("--items", type=int, default=200000,
                    help="entries of the parent's table (~200 bytes each)")
    a = ap.parse_args(argv)

    sigterm_exits()
    data = {"key-%d" % i: (i, float(i), [i, i + 1]) for i in range(a.items)}
    ctx = multiprocessing.get_context("fork")
    # the children get the default SIGTERM action back, so terminate() kills them
    pool = ctx.Pool(a.processes, initializer=signal.signal,
                    initargs=(signal.SIGTERM, signal.SIG_DFL))
    result = {"parent": os.getpid(), "items": len(data), "hung": None}
    try:
        first = pool_pids(pool)
        result["pool"] = first
        print("parent %d, pool children %s" % (os.getpid(), " ".join(map(str, first))),
              flush=True)
        async_result = pool.map_async(task, [a.task_seconds] * a.tasks, chunksize=1)
        if a.killer == "self":
            time.sleep(a.kill_after)
            victim = first[0]
            os.kill(victim, signal.SIGKILL)
            result["killed"] = victim
            print("SIGKILLed pool child %d while it ran a task" % victim, flush=True)
        else:
            result["killed"] = None
            print("waiting for someone to kill a pool child", flush=True)
        t0 = time.monotonic()
        try:
            got = async_result.get(timeout=a.timeout)
            result["hung"] = False
            print("map returned %s after %.1f s: the hang did not reproduce"
                  % (got, time.monotonic() - t0))
        except multiprocessing.TimeoutError:
            result["hung"] = True
            print("map_async(...).get() still waiting after %.1f s: without a timeout"
                  " it would hang for ever (the killed child's task is lost)" % a.timeout)
        now = pool_pids(pool)
        result["replacements"] = [p for p in now if p not in first]
        print("pool children now %s (replacement%s: %s)"
              % (" ".join(map(str, now)), "s" if len(result["replacements"]) != 1 else "",
                 " ".join(map(str, result["replacements"])) or "none"))
    finally:
        result.setdefault("replacements", [])
        pool.terminate()  # SIGTERMs the live children and joins them
        pool.join()
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if result["hung"] else 1


if __name__ == "__main__":
    sys.exit(main())
