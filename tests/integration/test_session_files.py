"""The files a recording leaves: one plain file, owner-only, readable by
another user from a read-only folder; a killed recorder's log kept and
said plainly when it cannot be read; leftovers of killed runs cleaned at
the next start."""
import os
import signal
import stat
import subprocess
import tempfile
import time

from treeutil import COWPROF, PYTHON, open_session

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def fresh_dir():
    d = tempfile.mkdtemp(prefix="cowprof-files-")
    # others may enter (the tests' own folder too); what they may read is
    # each file's mode
    os.chmod(os.path.dirname(d), 0o711)
    os.chmod(d, 0o755)
    return d


def test_finished_session_is_one_owner_only_file():
    d = fresh_dir()
    path = os.path.join(d, "s.db")
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.1", "-o", path, "--",
                        "sh", "-c", "sleep 0.4; echo secret-$((6*7))"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(d)) == ["s.db"], os.listdir(d)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)
    # another user cannot read it at all
    other = subprocess.run(NOBODY + [COWPROF, "report", path], capture_output=True,
                           text=True, timeout=30)
    assert other.returncode == 1 and "Permission denied" in other.stderr, other.stderr


def test_copied_session_reads_from_a_read_only_folder_creating_nothing():
    d = fresh_dir()
    path = os.path.join(d, "s.db")
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.1", "-o", path, "--",
                        "sleep", "0.4"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    os.chmod(path, 0o644)   # made readable to others, as a copy would be
    os.chmod(d, 0o555)
    try:
        rep = subprocess.run(NOBODY + [COWPROF, "report", "--format", "json", path],
                             capture_output=True, text=True, timeout=30)
        assert rep.returncode == 0, rep.stderr
        assert '"processes"' in rep.stdout
        assert sorted(os.listdir(d)) == ["s.db"], os.listdir(d)
    finally:
        os.chmod(d, 0o755)


def test_killed_recorder_log_kept_and_named_when_unreadable():
    d = fresh_dir()
    path = os.path.join(d, "k.db")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        rec = subprocess.Popen([COWPROF, "record", "-i", "0.1", "-o", path,
                                str(sleeper.pid)], stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        rec.send_signal(signal.SIGKILL)
        rec.wait(10)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert os.path.exists(path + "-wal"), os.listdir(d)
    # the owner, in a writable folder, reads the samples in the log
    rep = subprocess.run([COWPROF, "report", "--format", "json", path],
                         capture_output=True, text=True, timeout=30)
    assert rep.returncode == 0, rep.stderr
    # another user in a read-only folder, without the -shm beside it
    for suffix in ("", "-wal"):
        os.chmod(path + suffix, 0o644)
    os.unlink(path + "-shm")
    os.chmod(d, 0o555)
    try:
        r = subprocess.run(NOBODY + [COWPROF, "report", path], capture_output=True,
                           text=True, timeout=30)
    finally:
        os.chmod(d, 0o755)
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and "read-only folder" in line and "corrupted" not in line, line


def test_leftovers_of_killed_runs_are_cleaned_at_the_next_start():
    d = fresh_dir()
    env = dict(os.environ, TMPDIR=d, COWPROF_SPOOL_DIR=d)
    # a spool and a half-made session of a cowprof that is gone (a pid that
    # exited), and ones of a live process, which stay
    gone = subprocess.Popen(["true"])
    gone.wait()
    live = os.getpid()
    for pid in (gone.pid, live):
        spool = os.path.join(d, "cowprof-spool-%d-abcdef" % pid)
        os.mkdir(spool)
        with open(os.path.join(spool, "faults.123"), "wb") as f:
            f.truncate(64 << 20)
        open(os.path.join(d, "s.db.new-%d" % pid), "w").close()
        open(os.path.join(d, "s.db.new-%d-journal" % pid), "w").close()
    path = os.path.join(d, "s.db")
    r = subprocess.run([COWPROF, "run", "-i", "0.2", "-o", path, "--", "sleep", "0.3"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    left = sorted(os.listdir(d))
    assert left == sorted(["s.db", "cowprof-spool-%d-abcdef" % live,
                           "s.db.new-%d" % live, "s.db.new-%d-journal" % live]), left


def test_full_disk_says_no_space():
    """A private tmpfs of 160 KiB (its own mount namespace: nothing of the
    machine's changes) fills up while recording."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            'd=$(mktemp -d) && mount -t tmpfs -o size=160k tmpfs "$d" && '
                            'exec "$0" record -i 0.05 -d 30 -o "$d/s.db" "$1"',
                            COWPROF, str(sleeper.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = r.stderr.strip().splitlines()[-1]
    assert "writing the session failed: No space left on device" in line, r.stderr


def test_zombie_root_is_named_a_zombie():
    code = "import os, sys, time\npid = os.fork()\nif pid == 0:\n    os._exit(5)\n" \
           "print(pid, flush=True)\ntime.sleep(30)\n"
    parent = subprocess.Popen([PYTHON, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        zombie = int(parent.stdout.readline())
        time.sleep(0.2)
        for args in (["snapshot", str(zombie)], ["record", "-d", "1", str(zombie)]):
            r = subprocess.run([COWPROF, *args], capture_output=True, text=True, timeout=30)
            assert r.returncode == 1, (args, r.stderr)
            assert r.stderr.strip() == ("cowprof: pid %d has exited and is a zombie; its "
                                        "memory is gone" % zombie), r.stderr
    finally:
        parent.kill()
        parent.wait()


def test_wal_session_without_log_reads_from_odd_paths():
    """A session left in WAL mode without its log (written by an older
    cowprof, or closed while a reader held it) is read as immutable; its
    path may hold the characters a URI gives meaning to."""
    import sqlite3
    d = fresh_dir()
    path = os.path.join(d, "s.db")
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.1", "-o", path, "--",
                        "sleep", "0.3"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    c = sqlite3.connect(path)
    assert c.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    c.close()  # the last connection folds the log in and removes it
    assert not os.path.exists(path + "-wal")
    for name in ("x#1.db", "y%41.db", "z?a.db"):
        odd = os.path.join(d, name)
        os.rename(path, odd)
        rep = subprocess.run([COWPROF, "report", "--format", "json", odd],
                             capture_output=True, text=True, timeout=30)
        assert rep.returncode == 0, (name, rep.stderr)
        assert '"processes"' in rep.stdout
        path = odd


def test_run_ends_with_its_commands_status_when_signalled_while_held():
    """SIGTERM while the command still waits for the session (its creation
    slowed down by strace): passed on, the command ends, run exits 143
    with one line and leaves no file (it died of SIGPIPE, leaving three)."""
    d = fresh_dir()
    path = os.path.join(d, "held.db")
    st = subprocess.Popen(["strace", "-o", "/dev/null", "-e",
                           "inject=link:delay_enter=1500000", COWPROF, "run", "-o", path,
                           "--", "sleep", "5"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        cow = None
        for _ in range(50):
            time.sleep(0.05)
            with open("/proc/%d/task/%d/children" % (st.pid, st.pid)) as f:
                kids = f.read().split()
            if kids:
                cow = int(kids[0])
                break
        assert cow, "cowprof did not start"
        time.sleep(0.4)
        os.kill(cow, signal.SIGTERM)
        out, err = st.communicate(timeout=30)
    finally:
        if st.poll() is None:
            st.kill()
            st.wait()
    assert st.returncode == 128 + signal.SIGTERM, (st.returncode, err)
    assert err.strip().count("\n") == 0 and err.startswith("cowprof: "), err
    assert os.listdir(d) == [], os.listdir(d)
