"""cowprof top: the live TUI on a running forktree whose children keep
writing pages (-k 64 -K 300), driven through tmux (send-keys,
capture-pane) on a private server per test, and checked by content: every
pid shows, a child's copied figure grows while we watch, a child killed
with SIGKILL shows as such, the root's exit shows, q exits 0 and removes
the temporary session, -o keeps a session that `report` reads; bad input
gives one line and exit 1 or 2."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from tmuxutil import Tmux
from treeutil import COWPROF, Forktree, run

TREE_ARGS = ("-a", "16", "-n", "2", "-w", "100,300", "-k", "64", "-K", "300")


def select_pid(t, pid):
    """Move the cursor down until the selected line names pid."""
    for _ in range(10):
        text = t.screen()
        if re.search(r"^pid %d " % pid, text, re.M):
            return text
        t.keys("j")
        time.sleep(0.15)
    raise AssertionError("cannot select pid %d:\n%s" % (pid, t.screen()))


def private_tmp():
    """A TMPDIR of its own, to see what top leaves there."""
    return tempfile.mkdtemp(prefix="cowprof-top-test-")


def top(args, tmpdir, x=120, y=40, env=""):
    return Tmux("TMPDIR=%s %s%s top %s" % (tmpdir, env, COWPROF, args), x, y, name="top")


def copied_kb(text, pid):
    m = re.search(r"^pid %d worker: shared \d+ KiB, copied (\d+) KiB" % pid, text, re.M)
    assert m, (pid, text)
    return int(m.group(1))


def wait_empty(d, timeout=5.0):
    """d once it is empty (top ended by tmux's SIGHUP cleans up after it)."""
    end = time.time() + timeout
    while os.listdir(d) and time.time() < end:
        time.sleep(0.05)
    assert os.listdir(d) == [], os.listdir(d)
    os.rmdir(d)


def remove_dir(d):
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def test_top_shows_every_pid_and_copies_growing():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree, top("-i 0.2 %d" % tree.pid, tmp) as t:
        pids = sorted(tree.procs)
        assert len(pids) == 3, pids
        text = t.wait_for(r"sample \d+/\d+")
        for pid in pids:
            text = t.wait_for(r"(?m)^\s*%d " % pid)
        assert "cowprof top %d" % tree.pid in text and "live, every 0.2s" in text, text
        child = [p for p in pids if p != tree.pid][0]
        first = copied_kb(select_pid(t, child), child)
        time.sleep(1.5)
        second = copied_kb(t.screen(), child)
        assert second > first, (first, second)
        # the temporary session lives under TMPDIR while top runs
        assert [n for n in os.listdir(tmp) if n.startswith("cowprof-top-")], os.listdir(tmp)
    wait_empty(tmp)


def test_top_shows_a_child_killed_by_sigkill_and_the_root_exit():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree, top("-i 0.2 %d" % tree.pid, tmp) as t:
        child = sorted(p for p in tree.procs if p != tree.pid)[-1]
        t.wait_for(r"(?m)^\s*%d " % child)
        os.kill(child, signal.SIGKILL)
        # "killed by SIGKILL" at once; a second later, once the signal
        # is stored, who sent it: this test
        t.wait_for(r"(?m)^\s*%d .*(killed by SIGKILL|SIGKILL from %d )"
                   % (child, os.getpid()), timeout=5)
        t.wait_for(r"(?m)^\s*%d .*SIGKILL from %d " % (child, os.getpid()), timeout=5)
        tree.stop()
        text = t.wait_for(r"root exited", timeout=5)
        assert re.search(r"(?m)^\s*%d .*SIGKILL from %d " % (child, os.getpid()), text), text
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text
    assert os.listdir(tmp) == [], os.listdir(tmp)
    os.rmdir(tmp)


def test_top_q_exits_zero_and_removes_the_session():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree, top("-i 0.2 %d" % tree.pid, tmp) as t:
        t.wait_for(r"sample \d+/\d+")
        assert os.listdir(tmp), "no temporary session"
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text
        assert "cowprof top" not in text, text  # the alternate screen is gone
        assert "recorded" not in text, text     # nothing kept, nothing said
        assert os.listdir(tmp) == [], os.listdir(tmp)
        assert tree.proc.poll() is None          # the tree was left alone
    os.rmdir(tmp)


def test_top_sigterm_ends_it_and_removes_the_session():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree, top("-i 0.2 %d" % tree.pid, tmp) as t:
        t.wait_for(r"sample \d+/\d+")
        pids = subprocess.run(["pgrep", "-f", "^%s top -i 0.2 %d$" % (COWPROF, tree.pid)],
                              capture_output=True, text=True).stdout.split()
        assert len(pids) == 1, pids
        os.kill(int(pids[0]), signal.SIGTERM)
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text
        assert os.listdir(tmp) == [], os.listdir(tmp)
    os.rmdir(tmp)


def test_top_output_keeps_a_session():
    tmp = private_tmp()
    path = os.path.join(tmp, "kept.db")
    with Forktree(*TREE_ARGS) as tree, top("-i 0.2 -o %s %d" % (path, tree.pid), tmp) as t:
        pids = sorted(tree.procs)
        t.wait_for(r"sample (\d\d+)/")
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text
        # the pane wraps a long path: read the line unwrapped
        assert re.search(r"cowprof: recorded \d+ samples of 3 processes over [\d.]+ s "
                         r"into %s" % re.escape(path), text.replace("\n", "")), text
    rep = json.loads(run("report", "--format", "json", path).stdout)
    assert sorted(p["pid"] for p in rep["processes"]) == pids, rep["processes"]
    assert len(rep["tree"]) >= 10, len(rep["tree"])
    # (and SQLite's -wal and -shm, as `record` leaves them)
    assert all(n.startswith("kept.db") for n in os.listdir(tmp)), os.listdir(tmp)
    remove_dir(tmp)


def test_top_bad_input():
    r = run("top", check=False)
    assert r.returncode == 2 and r.stderr.startswith("cowprof: top: missing PID"), r
    assert r.stderr.count("\n") == 1, r.stderr
    for args in (["x"], ["1", "2"], ["--bogus", "1"], ["-i", "0.01", "1"]):
        r = run("top", *args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("cowprof: top: ") and r.stderr.count("\n") == 1, r.stderr
    r = run("top", "2", check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr == "cowprof: pid 2: is a kernel thread (no user memory)\n", r.stderr
    gone = subprocess.Popen(["true"])
    gone.wait()
    r = run("top", str(gone.pid), check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr == "cowprof: pid %d: no such process\n" % gone.pid, r.stderr
    assert "usage: cowprof top" in run("top", "--help").stdout
    assert "top" in run("--help").stdout


def test_top_needs_a_terminal():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree:
        r = subprocess.run([COWPROF, "top", str(tree.pid)], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, TMPDIR=tmp),
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert r.stderr == "cowprof: top: needs a terminal (stdin and stdout)\n", r.stderr
        with top(str(tree.pid), tmp, env="TERM=nonexistent ") as t:
            text = t.wait_for(r"EXIT=\d+")
            assert "EXIT=1" in text, text
            assert "cowprof: top: unknown terminal type 'nonexistent'" in text, text
    assert os.listdir(tmp) == [], os.listdir(tmp)
    os.rmdir(tmp)


def sample_count(text):
    return int(re.search(r"sample (\d+)/", text).group(1))


def test_top_pause_and_interval_keys():
    tmp = private_tmp()
    with Forktree(*TREE_ARGS) as tree, top("-i 0.4 %d" % tree.pid, tmp) as t:
        t.wait_for(r"live, every 0\.4s")
        t.keys("-")
        t.wait_for(r"live, every 0\.2s")
        t.keys("+")
        t.keys("+")
        t.wait_for(r"live, every 0\.8s")
        t.keys("p")
        first = sample_count(t.wait_for(r"paused \(p resumes\), every 0\.8s"))
        time.sleep(2.0)
        assert sample_count(t.screen()) == first  # the screen holds still
        t.keys("p")
        t.wait_for(r"live, every 0\.8s")
        end = time.time() + 5
        while sample_count(t.screen()) <= first + 1 and time.time() < end:
            time.sleep(0.2)
        # the recorder went on while paused: the count jumps on resume
        assert sample_count(t.screen()) > first + 1
        t.keys("q")
        assert "EXIT=0" in t.wait_for(r"EXIT=\d+")
    remove_dir(tmp)
