"""Helpers for integration tests: start real process trees, read the kernel's
own figures, run cowprof, and end every process we started, by pid."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COWPROF = os.path.join(ROOT, "build", "cowprof")
FORKTREE = os.path.join(ROOT, "build", "forktree")
PYTHON = "/usr/bin/python3"


class Forktree:
    """A running samples/forktree with its ready line parsed. short=True
    starts it as ./forktree from build/, so that its command line (which
    screens show cut to their width) does not depend on the checkout's
    path."""

    def __init__(self, *args, short=False):
        argv0, cwd = ("./forktree", os.path.dirname(FORKTREE)) if short else (FORKTREE, None)
        self.proc = subprocess.Popen([argv0, *args], stdout=subprocess.PIPE,
                                     text=True, cwd=cwd)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(5)
            raise RuntimeError("forktree %s exited with %s" % (args, self.proc.returncode))
        self.ready = json.loads(line)
        self.pid = self.proc.pid
        self.procs = {p["pid"]: p for p in self.ready["processes"]}

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        for pid in self.procs:
            wait_gone(pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_gone(pid, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except (FileNotFoundError, ProcessLookupError):
            return  # reaped between the open and the read: ESRCH
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


def smaps_rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[0][:-1]] = int(parts[1])
    return out


def run(*args, check=True):
    r = subprocess.run([COWPROF, *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("cowprof %s: exit %d: %s" % (args, r.returncode, r.stderr))
    return r


def snapshot(pid, regions=True):
    args = ["snapshot", "--json"] + (["--regions"] if regions else []) + [str(pid)]
    return json.loads(run(*args).stdout)


def region_at(proc, start):
    for r in proc.get("regions", []):
        if r["start"] <= start < r["end"]:
            return r
    raise AssertionError("pid %d: no region at %#x" % (proc["pid"], start))


def within_pct(a, b, pct):
    return abs(a - b) <= max(a, b) * pct / 100.0 + 4


def free_port():
    """A TCP port free on 127.0.0.1 (servers of the tests bind there only)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def session_path(folder, name):
    """folder/name, with any earlier session there (and its WAL) removed."""
    path = os.path.join(folder, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return path


def open_session(path):
    """A read-only connection to a session file that passed integrity_check."""
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return c


def report_json(path):
    """`cowprof report --format json PATH`, parsed."""
    p = subprocess.run([COWPROF, "report", "--format", "json", path],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def line_of(path, marker):
    """The number of the first line of path holding marker."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError("no line with %r in %s" % (marker, path))


def fault_proc(rep, pid):
    """A report's fault attribution record of pid."""
    for p in rep["faults"]["processes"]:
        if p["pid"] == pid:
            return p
    raise AssertionError("no fault record of pid %d: %s" % (pid, rep["faults"]))


def children(pid):
    """The child pids of pid, from every thread's children file."""
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, t)) as f:
            out += [int(x) for x in f.read().split()]
    return sorted(out)


class Gunicorn:
    """samples/gunicorn/app.py under Debian's gunicorn with CONFIG, on
    127.0.0.1, ready once its workers answer; items sets the size of its
    table (COWPROF_DATA_ITEMS). Ended, with its workers, by pid. With wrap
    (a command prefix such as cowprof run ... --), gunicorn runs under it:
    pid is then gunicorn's master, the wrapper's child, and stop() ends the
    wrapper, which passes SIGTERM on."""

    def __init__(self, config, workers=4, items=None, wrap=None):
        app = os.path.join(ROOT, "samples", "gunicorn")
        env = dict(os.environ)
        if items is not None:
            env["COWPROF_DATA_ITEMS"] = str(items)
        self.port = free_port()
        self.proc = subprocess.Popen(
            (wrap or []) +
            [PYTHON, "-m", "gunicorn", "-c", os.path.join(app, config),
             "-w", str(workers), "-b", "127.0.0.1:%d" % self.port, "app:app"],
            cwd=app, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if wrap else
            subprocess.DEVNULL, env=env, text=True)
        self.wrapped = bool(wrap)
        self.pid = self.wrapped_child() if wrap else self.proc.pid
        self.workers = self.wait_workers(config, workers)

    def wrapped_child(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            kids = children(self.proc.pid)
            if kids:
                return kids[0]
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("the wrapper started no gunicorn")

    def wait_workers(self, config, n, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            kids = children(self.pid)
            if len(kids) == n and self.get("/health", check=False) == b"ok":
                return kids
            time.sleep(0.1)
        self.stop()
        raise AssertionError("gunicorn %s did not start %d workers" % (config, n))

    def get(self, path, check=True):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=60) as r:
                return r.read()
        except OSError:
            if check:
                raise
            return None

    def stop(self):
        pids = [self.pid] + children(self.pid)
        if self.wrapped:
            pids.append(self.proc.pid)
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.stderr = self.proc.communicate(timeout=60)[1] if self.wrapped \
                    else self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.wait(5)
        for pid in pids:
            wait_gone(pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
