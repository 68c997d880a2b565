"""What a process waits on (collectors/procstate through build/procwait), on
real processes blocked in known places: a pipe whose write end a child
holds, a socketpair whose peer is a child, accept on 127.0.0.1, a loopback
TCP connection whose other end a child holds, wait4 for two children, and a
unix connection nobody accepted (the multiprocessing Manager hang's shape).
Each test asserts the exact system call, fd kind, peer and line."""
import json
import os
import signal
import subprocess
import time

from treeutil import PYTHON, ROOT

PROCWAIT = os.path.join(ROOT, "build", "procwait")

# Each scenario prints one JSON line {"pids": [...]} once set up, then the
# root blocks; children sleep (the caller ends them all, by pid).
PRELUDE = """
import json, os, socket, sys, time
def kid(fn=None):
    pid = os.fork()
    if pid == 0:
        if fn: fn()
        time.sleep(1000); os._exit(0)
    return pid
def ready(*pids):
    print(json.dumps({"pids": [os.getpid()] + list(pids)}), flush=True)
"""


class Scenario:
    """Start python3 -c PRELUDE+code; .pids = [root, children...]."""

    def __init__(self, code, nr):
        self.p = subprocess.Popen([PYTHON, "-c", PRELUDE + code], stdout=subprocess.PIPE,
                                  text=True)
        self.pids = []
        line = self.p.stdout.readline()
        assert line, "scenario did not start"
        self.pids = json.loads(line)["pids"]
        self.root = self.pids[0]
        self.wait_in(nr)

    def wait_in(self, nr, pid=None, timeout=10.0):
        pid = pid or self.root
        end = time.time() + timeout
        while time.time() < end:
            with open("/proc/%d/syscall" % pid) as f:
                words = f.read().split()
            if words and words[0] == str(nr):
                return
            time.sleep(0.02)
        raise AssertionError("pid %d not in syscall %d: %s" % (pid, nr, words))

    def procwait(self, pid=None):
        r = subprocess.run([PROCWAIT, "-T", str(self.root), str(pid or self.root)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        (line,) = r.stdout.splitlines()
        return json.loads(line)

    def threads(self, pid=None):
        """tid -> procwait -a record of each thread of pid (the root)."""
        r = subprocess.run([PROCWAIT, "-a", "-T", str(self.root), str(pid or self.root)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return {w["tid"]: w for w in map(json.loads, r.stdout.splitlines())}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for pid in self.pids:  # the root first: it sees no reset from its children
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait(10)


def test_pipe_read_names_the_child_holding_the_write_end():
    # one child holds only the read end (not a writer), the other only the
    # write end
    code = """
r, w = os.pipe()
c1 = kid(lambda: os.close(w))
c2 = kid(lambda: os.close(r))
os.close(w)
ready(c1, c2)
os.read(r, 1)
"""
    with Scenario(code, 0) as s:
        w = s.procwait()
        child = s.pids[2]
        assert (w["syscall"], w["syscall_name"], w["fd_kind"], w["peer"]) == \
            (0, "read", "pipe", "pipe"), w
        assert w["peer_pids"] == [child], w
        assert w["wchan"] == "anon_pipe_read", w
        assert w["describe"] == "read(fd %d) on pipe, write end held by %d (python3)" \
            % (w["fd"], child), w


def test_pipe_read_with_its_own_write_end_open():
    # the classic bug: the reader never gets EOF because it holds a write end
    code = """
r, w = os.pipe()
c = kid()
ready(c)
os.read(r, 1)
"""
    with Scenario(code, 0) as s:
        w = s.procwait()
        assert sorted(w["peer_pids"]) == sorted(s.pids), w
        assert "(itself)" in w["describe"], w


def test_socketpair_recv_names_the_child_holding_the_peer():
    code = """
a, b = socket.socketpair()
c = kid(lambda: a.close())
b.close()
ready(c)
a.recv(10)
"""
    with Scenario(code, 45) as s:
        w = s.procwait()
        child = s.pids[1]
        assert (w["syscall_name"], w["fd_kind"], w["sock"], w["peer"]) == \
            ("recvfrom", "socket", "unix", "unix"), w
        assert w["peer_pids"] == [child], w
        assert w["wchan"] == "unix_stream_read_generic", w
        assert w["describe"] == "recvfrom(fd %d) on unix stream socket, peer held by %d (python3)" \
            % (w["fd"], child), w


def test_accept_on_loopback():
    code = """
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(json.dumps({"pids": [os.getpid()], "port": l.getsockname()[1]}), flush=True)
l.accept()
"""
    with Scenario(code, 288) as s:
        w = s.procwait()
        assert (w["syscall"], w["syscall_name"], w["fd_kind"], w["sock"]) == \
            (288, "accept4", "socket", "tcp"), w
        assert w["wchan"] == "inet_csk_accept", w
        assert w["describe"].startswith("accept4(fd %d) on TCP 127.0.0.1:" % w["fd"]), w
        assert w["describe"].endswith(" (listening)"), w


def test_tcp_recv_names_the_child_holding_the_other_end():
    code = """
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
port = l.getsockname()[1]
def serve():
    conn, _ = l.accept()
    time.sleep(1000)
c = kid(serve)
l.close()
s = socket.create_connection(("127.0.0.1", port))
ready(c)
s.recv(10)
"""
    with Scenario(code, 45) as s:
        child = s.pids[1]
        s.wait_in(230, child)  # accepted, now sleeping
        w = s.procwait()
        assert (w["syscall_name"], w["sock"], w["peer"]) == ("recvfrom", "tcp", "inet"), w
        assert w["peer_pids"] == [child], w
        assert w["describe"].startswith("recvfrom(fd %d) on TCP 127.0.0.1:" % w["fd"]), w
        assert w["describe"].endswith(", peer held by %d (python3)" % child), w


def test_wait4_names_the_children():
    code = """
c1 = kid(); c2 = kid()
ready(c1, c2)
os.waitpid(-1, 0)
"""
    with Scenario(code, 61) as s:
        w = s.procwait()
        c1, c2 = s.pids[1:]
        assert (w["syscall_name"], w["peer"], w["wchan"]) == ("wait4", "children", "do_wait"), w
        assert w["peer_pids"] == [c1, c2], w
        assert w["describe"] == "wait4 (children %d (python3), %d (python3))" % (c1, c2), w


def test_unaccepted_unix_connection_names_the_listener_holders():
    # the Manager hang: a listener inherited by a child, nobody accepting,
    # the root connected and waits for an answer
    code = """
import tempfile
path = os.path.join(tempfile.mkdtemp(), "listener")
l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen(4)
c = kid()
s = socket.socket(socket.AF_UNIX); s.connect(path)
print(json.dumps({"pids": [os.getpid(), c], "path": path}), flush=True)
s.recv(10)
"""
    with Scenario(code, 45) as s:
        w = s.procwait()
        assert (w["syscall_name"], w["sock"], w["peer"]) == ("recvfrom", "unix", "unix_queued"), w
        assert sorted(w["peer_pids"]) == sorted(s.pids), w
        assert w["listener"].endswith("/listener"), w
        assert "connection not accepted yet: queued on listener %s held by " % w["listener"] \
            in w["describe"], w


def test_tcp_connection_not_accepted_names_the_listener_holder():
    code = """
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
port = l.getsockname()[1]
c = kid()
l.close()
s = socket.create_connection(("127.0.0.1", port))
ready(c)
s.recv(10)
"""
    with Scenario(code, 45) as s:
        w = s.procwait()
        child = s.pids[1]
        assert (w["syscall_name"], w["sock"], w["peer"]) == ("recvfrom", "tcp", "inet_queued"), w
        assert w["peer_pids"] == [child], w
        assert w["describe"].endswith(", connection not accepted yet: queued on listener %s "
                                      "held by %d (python3)" % (w["listener"], child)), w
        assert w["listener"].startswith("127.0.0.1:"), w


def test_thread_blocked_on_a_pipe_while_the_main_thread_joins():
    # the multiprocessing.Pool shape: the main thread waits on a condition,
    # a helper thread is the one blocked on the pipe
    code = """
import threading
r, w = os.pipe()
c = kid(lambda: os.close(r))
os.close(w)
t = threading.Thread(target=os.read, args=(r, 1)); t.start()
ready(c)
t.join()
"""
    with Scenario(code, 202) as s:
        child = s.pids[1]
        deadline = time.time() + 10
        while time.time() < deadline:
            ts = s.threads()
            if len(ts) == 2 and all(t["syscall"] is not None for t in ts.values()):
                others = [t for tid, t in ts.items() if tid != s.root]
                if others[0]["syscall"] == 0:
                    break
            time.sleep(0.02)
        assert s.root in ts and len(ts) == 2, ts
        assert ts[s.root]["describe"] == "futex wait (a lock or condition)", ts
        (other,) = [t for tid, t in ts.items() if tid != s.root]
        assert other["describe"] == "read(fd %d) on pipe, write end held by %d (python3)" \
            % (other["fd"], child), other


def test_gone_pid_is_an_error():
    p = subprocess.Popen(["true"])
    p.wait()
    r = subprocess.run([PROCWAIT, str(p.pid)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no such process" in r.stderr, (r.returncode, r.stderr)


def test_manager_hang_names_the_listener_and_the_master():
    # samples/mp/manager_gunicorn.py: the killed worker's atexit ends the
    # Manager's data process; the replacement's post_fork connects to the
    # Manager's listener (still held by the master and the workers) and
    # waits for an answer nobody will send
    p = subprocess.Popen([PYTHON, os.path.join(ROOT, "samples", "mp", "manager_gunicorn.py"),
                          "--pause", "0.5", "--watch", "4"], stdout=subprocess.PIPE, text=True)
    try:
        master = new = None
        for line in p.stdout:
            if line.startswith("gunicorn master "):
                master = int(line.split()[2])
            if line.startswith("replacement worker "):
                new = int(line.split()[2].rstrip(";"))
            if new and "wchan unix_stream_read_generic" in line:
                break
        assert master and new, (master, new)
        r = subprocess.run([PROCWAIT, "-T", str(master), str(new)], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        w = json.loads(r.stdout)
        print("      %d: %s" % (new, w["describe"]))
        assert (w["syscall_name"], w["fd_kind"], w["sock"], w["peer"]) == \
            ("read", "socket", "unix", "unix_queued"), w
        assert master in w["peer_pids"] and new in w["peer_pids"], w
        assert w["describe"].startswith("read(fd %d) on unix stream socket, connection not "
                                        "accepted yet: queued on listener %s held by %d (python3)"
                                        % (w["fd"], w["listener"], master)), w
        p.stdout.read()
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.terminate()  # the driver ends everything it started, by pid
            p.wait(30)
