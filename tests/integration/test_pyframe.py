"""build/pystack reads the Python frames of live CPython 3.11 processes from
outside (collectors/pyframe.c through process_vm_readv): exact functions,
files and lines for a busy main thread and a sleeping second thread, under
Debian's /usr/bin/python3 and the other 3.11 on PATH; a one-line reason and
exit 1 for a process without Python and for other Python versions."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from treeutil import PYTHON, ROOT

PYSTACK = os.path.join(ROOT, "build", "pystack")

# Line numbers below are asserted: keep them in step with the text.
SCRIPT = '''\
import json, sys, threading, time
def c(ev):
    ev.set(); time.sleep(3600)
class K\u00dcnstler:
    def \u51fd\u6570\U00020000(self, ev):
        c(ev)
def a(ev):
    K\u00dcnstler().\u51fd\u6570\U00020000(ev)
def h():
    while True: pass
def g():
    h()
def f():
    g()
ev = threading.Event()
t = threading.Thread(target=a, args=(ev,), daemon=True)
t.start()
ev.wait()
while sys._current_frames()[t.ident].f_lineno != 3:
    time.sleep(0.01)
fr, stack = sys._current_frames()[t.ident], []
while fr:
    stack.append([fr.f_code.co_qualname, fr.f_code.co_filename, fr.f_lineno])
    fr = fr.f_back
print(json.dumps({"main": threading.get_native_id(), "thread": t.native_id,
                  "stack": stack}), flush=True)
f()
'''


class Target:
    """A Python process running SCRIPT from a folder with a non-ASCII name;
    killed by pid on exit."""

    def __init__(self, python):
        self.dir = tempfile.mkdtemp(prefix="pyframe-d\u00efr-")
        self.path = os.path.join(self.dir, "t.py")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        self.proc = subprocess.Popen([python, self.path], stdout=subprocess.PIPE, text=True)
        self.ready = json.loads(self.proc.stdout.readline())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def pystack(*args, nocache=False):
    env = dict(os.environ)
    if nocache:
        env["PYSTACK_NOCACHE"] = "1"
    r = subprocess.run([PYSTACK] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=30, env=env)
    return r.returncode, r.stdout


def parse(out):
    """{tid: [[qualname, file, line], ...]} from pystack's output."""
    threads, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"thread (\d+)$", line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"  (\S+) (.+):(-?\d+)$", line)
        assert m and cur is not None, line
        cur.append([m.group(1), m.group(2), int(m.group(3))])
    return threads


def check_python(python):
    with Target(python) as t:
        rc, out = pystack(t.proc.pid)
        assert rc == 0, out
        threads = parse(out)
        assert sorted(threads) == sorted([t.ready["main"], t.ready["thread"]]), out
        assert threads[t.ready["main"]] == [
            ["h", t.path, 10], ["g", t.path, 12], ["f", t.path, 14],
            ["<module>", t.path, 27]], out
        # the thread as Python itself sees it, innermost first
        want = t.ready["stack"]
        assert want[:3] == [["c", t.path, 3],
                            ["K\u00dcnstler.\u51fd\u6570\U00020000", t.path, 6],
                            ["a", t.path, 8]], want
        assert want[-1][0] == "Thread._bootstrap", want
        assert threads[t.ready["thread"]] == want, (out, want)
        # one thread only
        rc, out = pystack(t.proc.pid, t.ready["thread"])
        assert rc == 0 and parse(out) == {t.ready["thread"]: want}, out
        # one process_vm_readv a read instead of the page cache: the same
        rc, out2 = pystack(t.proc.pid, nocache=True)
        assert rc == 0 and parse(out2) == threads, (out, out2)


def test_debian_python3():
    check_python(PYTHON)


def other_311():
    """The python3 first on PATH when it is a 3.11 that is not /usr/bin's."""
    r = subprocess.run(["python3", "-c", "import sys; print(sys.version_info[:2] == (3, 11), "
                        "sys.executable)"], capture_output=True, text=True, timeout=30)
    ok, _, exe = r.stdout.strip().partition(" ")
    if r.returncode or ok != "True":
        return None
    if os.path.realpath(exe) == os.path.realpath(PYTHON):
        return None
    return exe


def test_other_311_on_path():
    exe = other_311()
    if not exe:
        print("     skipped: no second 3.11 on PATH")
        return
    check_python(exe)


def test_not_python_says_no_cpython():
    p = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.1)
        rc, out = pystack(p.pid)
        assert rc == 1, out
        assert out.strip() == ("pystack: pid %d: no CPython in pid %d (no python or libpython "
                               "mapping defining _PyRuntime)" % (p.pid, p.pid)), out
    finally:
        p.kill()
        p.wait()


def other_versions():
    """Python interpreters here that are not 3.11: (exe, major, minor)."""
    found = {}
    cands = glob.glob("/usr/bin/python3.*") + glob.glob(os.path.expanduser(
        "~/.pyenv/versions/*/bin/python"))
    for exe in cands:
        if not re.search(r"python(\d\.\d+)?$", exe) or not os.access(exe, os.X_OK):
            continue
        r = subprocess.run([exe, "-c", "import sys; sys.stdout.write('%d %d' % "
                            "sys.version_info[:2])"], capture_output=True, text=True, timeout=30)
        if r.returncode:
            continue
        v = tuple(map(int, r.stdout.split()))
        if v != (3, 11):
            found.setdefault(v, exe)
    return [(exe, v[0], v[1]) for v, exe in sorted(found.items())]


def test_other_versions_are_refused():
    versions = other_versions()
    if not versions:
        print("     skipped: no Python other than 3.11 here")
        return
    for exe, major, minor in versions:
        p = subprocess.Popen([exe, "-c", "import sys, time; sys.stdout.write('1\\n'); "
                              "sys.stdout.flush(); time.sleep(60)"],
                             stdout=subprocess.PIPE)
        try:
            p.stdout.readline()
            rc, out = pystack(p.pid)
            assert rc == 1, (exe, out)
            lines = out.strip().splitlines()
            assert len(lines) == 1, (exe, out)
            assert re.search(r"is Python %d\.%d\b.*: not 3\.11$" % (major, minor),
                             lines[0]), (exe, out)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()


# The in-process path of the preload library's fault handler: the calling
# thread reads its own frames (pyframe_read_self), with the GIL held (PyDLL)
# or released (CDLL), in the main thread, a second thread and a fork child.
INPROC = '''\
import ctypes, os, sys, threading
def stack(fr):
    out = []
    while fr:
        out.append("%s %s:%d" % (fr.f_code.co_qualname, fr.f_code.co_filename, fr.f_lineno))
        fr = fr.f_back
    return out
def walk(lib):
    ns, buf = ctypes.c_double(), ctypes.create_string_buffer(1 << 16)
    n = lib.pyframe_inproc_walk(1, 1, ctypes.byref(ns), buf, len(buf)); want = stack(sys._getframe())
    got = buf.value.decode().splitlines()
    assert n == len(got) == len(want) and got == want, (n, got, want)
    return n
def deep(lib, k):
    return deep(lib, k - 1) if k else walk(lib)
def run(what, loader):
    lib = loader(sys.argv[1])
    n = deep(lib, 10)
    print(what, loader.__name__, n, flush=True)
for loader in (ctypes.PyDLL, ctypes.CDLL):
    run("main", loader)
    t = threading.Thread(target=run, args=("thread", loader))
    t.start(); t.join()
pid = os.fork()
if pid == 0:
    run("child", ctypes.PyDLL)
    os._exit(0)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
'''


def check_inproc(python):
    lib = os.path.join(ROOT, "build", "libpyframe_inproc.so")
    d = tempfile.mkdtemp(prefix="pyframe-")
    try:
        path = os.path.join(d, "inproc.py")
        with open(path, "w") as f:
            f.write(INPROC)
        r = subprocess.run([python, path, lib], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (python, r.stdout, r.stderr)
        lines = r.stdout.splitlines()
        assert lines == ["main PyDLL 14", "thread PyDLL 16", "main CDLL 14",
                         "thread CDLL 16", "child PyDLL 14"], lines
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_in_process_walk_matches_python():
    check_inproc(PYTHON)
    exe = other_311()
    if exe:
        check_inproc(exe)
