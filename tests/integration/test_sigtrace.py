"""Signal senders and OOM kills from the tracepoints (collectors/sigtrace)
and the kernel log (collectors/kmsg), seen by build/sigwatch on real
processes: a shell's SIGTERM, a SIGKILL from this test, and a real OOM kill
in a memory cgroup made for the test."""
import json
import os
import select
import signal
import subprocess
import time

from treeutil import ROOT, wait_gone

SIGWATCH = os.path.join(ROOT, "build", "sigwatch")
PYTHON = "/usr/bin/python3"


class Sigwatch:
    """build/sigwatch running on pids; collects its JSON lines."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SIGWATCH, *[str(a) for a in args]],
                                     stdout=subprocess.PIPE)
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.lines = []
        self.ready = self.next_line(10) or {"error": "no output"}
        if "error" in self.ready:
            self.proc.wait(5)
            raise RuntimeError("sigwatch: %s" % self.ready["error"])

    def next_line(self, timeout):
        """The next JSON line, or None at the timeout or end of output.
        (Raw reads: a buffered readline would hide lines from select.)"""
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def wait_for(self, pred, timeout=10.0):
        """Read lines until one satisfies pred; return it."""
        for line in self.lines:
            if pred(line):
                return line
        end = time.time() + timeout
        while True:
            line = self.next_line(end - time.time())
            if line is None:
                raise AssertionError("no matching record in the %d lines; last: %s"
                                     % (len(self.lines), self.lines[-20:]))
            self.lines.append(line)
            if pred(line):
                return line

    def stop(self):
        """End sigwatch; returns its last line (the counts)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        while True:
            line = self.next_line(10)
            if line is None:
                break
            self.lines.append(line)
        self.proc.wait(10)
        self.proc.stdout.close()
        return self.lines[-1]


def sleeper():
    return subprocess.Popen(["sleep", "600"])


def test_shell_sigterm_names_the_shell():
    target = sleeper()
    # kernel-side filter: other programs' signal storms cannot fill the ring
    w = Sigwatch("--filter", "sig == 15 || sig == 17", target.pid)
    try:
        sh = subprocess.Popen(["sh", "-c", "kill -TERM %d; exit 7" % target.pid])
        sh.wait(10)
        target.wait(10)
        rec = w.wait_for(lambda r: r.get("kind") == "signal" and r["target"] == target.pid
                         and r["sig"] == signal.SIGTERM)
        assert rec["sender_pid"] == sh.pid, rec
        assert rec["sender_tid"] == sh.pid, rec
        assert rec["code"] == 0, rec            # SI_USER: kill(2)
        assert rec["group"] is True, rec
        assert rec["result"] == 0, rec          # delivered
        assert rec["target_comm"] == "sleep", rec
        assert rec["sender_comm"] == "sh", rec
        now_ns = time.time_ns()
        assert now_ns - 10e9 < rec["t_ns"] <= now_ns, (rec, now_ns)
        # the target's own exit, and its SIGCHLD to us, with it as sender
        w.wait_for(lambda r: r.get("kind") == "exit" and r["pid"] == target.pid
                   and r["comm"] == "sleep")
        chld = w.wait_for(lambda r: r.get("kind") == "signal" and r["sig"] == signal.SIGCHLD
                          and r["sender_pid"] == target.pid)
        assert chld["target"] == os.getpid() and chld["code"] == 2, chld  # CLD_KILLED
        assert chld["sender_comm"] == "sleep" and chld["sender_exited"], chld
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
        end = w.stop()
    assert end["end"] and end["lost"] == 0, end


def test_sigkill_from_this_process():
    target = sleeper()
    w = Sigwatch("--filter", "sig == 9", target.pid)
    try:
        os.kill(target.pid, signal.SIGKILL)
        target.wait(10)
        rec = w.wait_for(lambda r: r.get("kind") == "signal" and r["target"] == target.pid
                         and r["sig"] == signal.SIGKILL)
        assert rec["sender_pid"] == os.getpid(), rec
        assert rec["sender_comm"] == "python3", rec
        assert rec["code"] == 0 and rec["result"] == 0, rec
        assert not rec["sender_exited"], rec
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
        w.stop()


# ---- a real OOM kill in a memory cgroup of our own ----

def own_memory_cgroup():
    """(version, folder of this process's memory cgroup) or None."""
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, ctrl, path = line.split(":", 2)
        if "memory" in ctrl.split(","):
            base = "/sys/fs/cgroup/memory"
            if os.path.isdir(base):
                return 1, base + path
    for line in lines:
        if line.startswith("0::"):
            mnt = None
            with open("/proc/self/mountinfo") as f:
                for m in f:
                    parts = m.split(" - ")
                    if parts[1].split()[0] == "cgroup2":
                        mnt = m.split()[4]
                        break
            if mnt:
                return 2, mnt + line[3:]
    return None


class MemoryCgroup:
    """A child memory cgroup with a limit, removed by remove()."""

    def __init__(self, limit_bytes):
        found = own_memory_cgroup()
        assert found, "no memory cgroup controller"
        self.version, parent = found
        self.path = os.path.join(parent, "cowprof-oom-%d" % os.getpid())
        os.mkdir(self.path)
        if self.version == 1:
            self.write("memory.limit_in_bytes", limit_bytes)
        else:
            self.write("memory.max", limit_bytes)
            self.write("memory.swap.max", 0)

    def rel(self):
        """The cgroup's path as the kernel logs it (from its hierarchy's root)."""
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrl, path = line.rstrip("\n").split(":", 2)
                if (self.version == 1 and "memory" in ctrl.split(",")) or \
                        (self.version == 2 and line.startswith("0::")):
                    return path.rstrip("/") + "/" + os.path.basename(self.path)
        raise AssertionError("own cgroup vanished")

    def write(self, name, value):
        try:
            with open(os.path.join(self.path, name), "w") as f:
                f.write(str(value))
        except FileNotFoundError:
            if name != "memory.swap.max":
                raise

    def add(self, pid):
        self.write("cgroup.procs", pid)

    def remove(self):
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("cannot remove %s" % self.path)


HOG = """
import sys
sys.stdin.readline()
chunks = []
for i in range(200):
    chunks.append(bytearray(b'x') * (1 << 20))
print('survived', flush=True)
"""


def test_oom_kill_in_memory_cgroup():
    cg = MemoryCgroup(64 << 20)
    hog = None
    w = None
    try:
        hog = subprocess.Popen([PYTHON, "-c", HOG], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        cg.add(hog.pid)
        w = Sigwatch("--kmsg", "--filter", "sig == 9", hog.pid)
        assert w.ready["oom"] and w.ready["kmsg"], w.ready
        hog.stdin.write("go\n")
        hog.stdin.flush()
        out, _ = hog.communicate(timeout=60)
        assert hog.returncode == -signal.SIGKILL, (hog.returncode, out)
        oom = w.wait_for(lambda r: r.get("kind") == "oom" and r["victim"] == hog.pid)
        assert oom["victim_comm"] == "python3", oom
        # the limit is 64 MiB: the victim's anon memory is close to it
        assert 48 * 1024 <= oom["anon_rss_kb"] <= 72 * 1024, oom
        assert oom["total_vm_kb"] > oom["anon_rss_kb"], oom
        assert oom["file_rss_kb"] >= 0 and oom["shmem_rss_kb"] >= 0, oom
        assert oom["uid"] == os.getuid(), oom
        kill = w.wait_for(lambda r: r.get("kind") == "signal" and r["target"] == hog.pid
                          and r["sig"] == signal.SIGKILL)
        assert kill["code"] == 0x80, kill       # SI_KERNEL
        ctx = w.wait_for(lambda r: r.get("kind") == "kmsg" and r["line"] == "context")
        assert ctx["pid"] == hog.pid, ctx
        assert ctx["constraint"] == "CONSTRAINT_MEMCG", ctx
        assert ctx["oom_memcg"] == cg.rel(), (ctx, cg.rel())
        assert ctx["task_memcg"] == cg.rel(), (ctx, cg.rel())
        killed = w.wait_for(lambda r: r.get("kind") == "kmsg" and r["line"] == "killed")
        assert killed["pid"] == hog.pid and killed["memcg"], killed
        assert killed["anon_rss_kb"] == oom["anon_rss_kb"], (killed, oom)
        assert killed["total_vm_kb"] == oom["total_vm_kb"], (killed, oom)
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        if w:
            w.stop()
        cg.remove()


def test_kmsg_alone_when_perf_is_not_used():
    """The fallback: --no-perf opens only /dev/kmsg and still sees the kill."""
    cg = MemoryCgroup(64 << 20)
    hog = None
    w = None
    try:
        hog = subprocess.Popen([PYTHON, "-c", HOG], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        cg.add(hog.pid)
        w = Sigwatch("--kmsg", "--no-perf", hog.pid)
        assert not w.ready["perf"] and w.ready["kmsg"], w.ready
        hog.stdin.write("go\n")
        hog.stdin.flush()
        hog.communicate(timeout=60)
        assert hog.returncode == -signal.SIGKILL
        killed = w.wait_for(lambda r: r.get("kind") == "kmsg" and r["line"] == "killed")
        assert killed["pid"] == hog.pid and killed["comm"] == "python3", killed
        assert 48 * 1024 <= killed["anon_rss_kb"] <= 72 * 1024, killed
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        if w:
            w.stop()
        cg.remove()


def test_manager_data_process_sigtermed_by_dying_worker():
    """The gunicorn + multiprocessing.Manager reproduction (samples/mp): the
    data process is ended by a SIGTERM whose sender is the killed worker, sent
    from its atexit handler just before it exits."""
    # the pids are not known yet: every SIGTERM and SIGCHLD of the system
    # (other programs may raise thousands of SIGSEGVs a second), every exit
    w = Sigwatch("--filter", "sig == 15 || sig == 17")
    try:
        out = subprocess.run([PYTHON, os.path.join(ROOT, "samples", "mp", "manager_gunicorn.py"),
                              "--pause", "0.5", "--watch", "1"],
                             capture_output=True, text=True, timeout=120).stdout
        res = json.loads(out.split("RESULT ", 1)[1])
        data, worker, master = res["data"], res["killed"], res["master"]
        term = w.wait_for(lambda r: r.get("kind") == "signal" and r["target"] == data
                          and r["sig"] == signal.SIGTERM)
        assert term["sender_pid"] == worker, (term, res)
        assert term["code"] == 0 and term["result"] == 0, term
        assert term["sender_comm"] in ("python3", "gunicorn"), term  # comm of the worker
        # the driver's SIGTERM to the worker came first, and the worker
        # exited after sending
        first = w.wait_for(lambda r: r.get("kind") == "signal" and r["target"] == worker
                           and r["sig"] == signal.SIGTERM)
        assert first["t_ns"] < term["t_ns"], (first, term)
        gone = w.wait_for(lambda r: r.get("kind") == "exit" and r["pid"] == worker)
        assert gone["t_ns"] > term["t_ns"], (gone, term)
        # the master reaps the data process: its SIGCHLD names it
        w.wait_for(lambda r: r.get("kind") == "signal" and r["sig"] == signal.SIGCHLD
                   and r["sender_pid"] == data and r["target"] == master)
    finally:
        end = w.stop()
    assert end["lost"] == 0, end
