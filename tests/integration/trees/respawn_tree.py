"""A tiny pre-fork master, run by /usr/bin/python3: it forks two workers
and replaces each that exits (as gunicorn does), at most twice. Worker 0
sleeps; worker 1 exits with status 3 after 0.6 s. Prints one line with the
pids, then runs until SIGTERM, which it passes to its workers."""
import os
import signal
import sys
import time

children = {}
respawns = 2


def worker(slot):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if slot == 1 and respawns == 2:
        time.sleep(0.6)
        os._exit(3)
    while True:
        time.sleep(3600)


def spawn(slot):
    pid = os.fork()
    if pid == 0:
        worker(slot)
    children[pid] = slot
    return pid


def stop(sig, frame):
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
first = [spawn(0), spawn(1)]
print("ready %d %d %d" % (os.getpid(), first[0], first[1]), flush=True)
while True:
    pid, status = os.wait()
    slot = children.pop(pid, None)
    if slot is not None and respawns > 0:
        respawns -= 1
        spawn(slot)
