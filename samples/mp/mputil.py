"""Helpers shared by the samples/mp drivers (standard library only): start a
Debian gunicorn on 127.0.0.1, find its workers, read /proc, and end every
process started, by pid."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
COWPROF = os.path.join(ROOT, "build", "cowprof")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def children(pid):
    """Direct children of pid (all its threads'), sorted; [] once it is gone."""
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []
    return sorted(set(out))


def state(pid):
    """One-letter state from /proc/PID/stat, or None when pid is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid):
    return state(pid) not in (None, "Z", "X")


def start_ticks(pid):
    """/proc/PID/stat field 22 (start time): tells a pid from a later process
    that reused it. None when pid is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (FileNotFoundError, ProcessLookupError):
        return None


def wchan(pid):
    """The kernel function pid sleeps in (/proc/PID/wchan), '' if none."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def wait_gone(pid, timeout=10.0, ticks=None):
    """Wait until pid is gone or a zombie; SIGKILL it when time is up (only
    if it is still the process that started at `ticks`, when given)."""
    end = time.time() + timeout
    while time.time() < end:
        if not alive(pid) or (ticks is not None and start_ticks(pid) != ticks):
            return True
        time.sleep(0.05)
    if ticks is None or start_ticks(pid) == ticks:
        kill(pid, signal.SIGKILL)
    return False


def kill(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def cowprof_snapshot(pid):
    """build/cowprof snapshot --json PID as a dict, or None when cowprof is
    not built or cannot read the tree (it needs root). When PID is an
    ancestor of ours, cowprof is itself a process of the tree it measures:
    its own row is dropped (its few MB stay in the tree totals)."""
    if not os.access(COWPROF, os.X_OK):
        return None
    p = subprocess.Popen([COWPROF, "snapshot", "--json", str(pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        print("cowprof snapshot: timed out")
        return None
    if p.returncode != 0:
        print("cowprof snapshot: %s" % err.strip())
        return None
    snap = json.loads(out)
    snap["processes"] = [q for q in snap["processes"] if q["pid"] != p.pid]
    return snap


class Gunicorn:
    """Debian's gunicorn on 127.0.0.1:<free port>, run from samples/mp (or
    cwd), its log in a temporary file."""

    def __init__(self, config, app, workers, cwd=HERE, env=None, extra=()):
        self.port = free_port()
        self.logfile = tempfile.NamedTemporaryFile(prefix="cowprof-gunicorn-", suffix=".log",
                                                   delete=False)
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", config, "-w", str(workers),
             "-b", "127.0.0.1:%d" % self.port, *extra, app],
            cwd=cwd, stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
            env=dict(os.environ, **(env or {})))
        self.pid = self.proc.pid
        self.seen = {}  # every process of the tree seen: pid -> start ticks

    def log(self):
        with open(self.logfile.name, errors="replace") as f:
            return f.read()

    def children(self):
        kids = children(self.pid)
        for pid in kids:
            if pid not in self.seen:
                self.seen[pid] = start_ticks(pid)
        return kids

    def get(self, path, timeout=30):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                    timeout=timeout) as r:
            return r.read()

    def wait(self, ready, timeout=60.0, what="gunicorn to start"):
        """Poll until ready() is true; raise when the master died or time is up."""
        end = time.time() + timeout
        while time.time() < end:
            self.children()
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited with %s:\n%s" % (self.proc.returncode,
                                                                     self.log()[-2000:]))
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("timed out waiting for %s:\n%s" % (what, self.log()[-2000:]))

    def stop(self, timeout=15.0):
        """SIGTERM the master, wait; then SIGKILL whatever we saw that is left."""
        self.children()
        if self.proc.poll() is None:
            kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        for pid, ticks in sorted(self.seen.items()):
            if ticks is not None:
                wait_gone(pid, 2.0, ticks)
        self.logfile.close()

    def cleanup(self):
        try:
            os.unlink(self.logfile.name)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()


def sigterm_exits():
    """Turn SIGTERM into SystemExit so `finally` blocks end our children."""
    def handler(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, handler)
