"""cowprof snapshot on a real Debian gunicorn tree (master + 4 workers)."""
import json
import os
import signal
import subprocess
import time
import urllib.request

from treeutil import PYTHON, ROOT, free_port, smaps_rollup, snapshot, wait_gone, within_pct

APP_DIR = os.path.join(ROOT, "samples", "gunicorn")




class Gunicorn:
    def __init__(self, config, workers=4):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", os.path.join(APP_DIR, config),
             "-w", str(workers), "-b", "127.0.0.1:%d" % self.port, "app:app"],
            cwd=APP_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.workers = self.wait_workers(workers)

    def wait_workers(self, n, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            kids = children(self.pid)
            if len(kids) == n and self.get("/health", check=False) == b"ok":
                return kids
            time.sleep(0.2)
        self.stop()
        raise AssertionError("gunicorn did not start %d workers" % n)

    def get(self, path, check=True):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=30) as r:
                return r.read()
        except OSError:
            if check:
                raise
            return None

    def stop(self):
        pids = [self.pid] + children(self.pid)
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
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


def children(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, t)) as f:
            out += [int(x) for x in f.read().split()]
    return sorted(out)


def test_gunicorn_preload_workers_share_the_masters_data():
    with Gunicorn("conf_preload.py") as g:
        snap = snapshot(g.pid, regions=False)
        pids = [p["pid"] for p in snap["processes"]]
        assert pids[0] == g.pid and sorted(pids[1:]) == g.workers, pids
        master = snap["processes"][0]
        assert master["anon_kb"] > 100 * 1024, master  # the preloaded data
        for w in snap["processes"][1:]:
            assert w["ppid"] == g.pid
            assert "gunicorn" in w["cmd"] or "app:app" in w["cmd"], w["cmd"]
            # freshly forked, idle workers still share nearly everything
            assert w["shared_pct"] > 90, w
            assert w["shared_with_parent_kb"] > 0.9 * master["anon_kb"], w
        for p in snap["processes"]:
            k = smaps_rollup(p["pid"])
            assert within_pct(p["rss_kb"], k["Rss"], 1), (p, k)
            assert within_pct(p["pss_kb"], k["Pss"], 1), (p, k)
        t = snap["tree"]
        assert t["unique_kb"] < 0.5 * t["rss_kb"], t


def test_gunicorn_read_only_pass_copies_the_data():
    with Gunicorn("conf_preload.py", workers=2) as g:
        before = snapshot(g.pid, regions=False)
        for _ in range(4):  # reach both workers
            g.get("/touch")
        after = snapshot(g.pid, regions=False)
        copied = {p["pid"]: p["copied_kb"] for p in after["processes"][1:]}
        data_kb = before["processes"][0]["anon_kb"]
        # refcount writes of a read-only pass copy most of the data in the
        # worker(s) that served it
        assert max(copied.values()) > 0.5 * data_kb, (copied, data_kb)
