"""Nothing the kernel told the recorder is lost at the end of a recording:
forks and exits after the last sample are written when the root exits,
when -d ends the recording and when the recorder is stopped."""
import os
import signal
import subprocess
import tempfile
import time

from treeutil import COWPROF, PYTHON, open_session, wait_gone
from treeutil import session_path as _session_path

TMP = tempfile.mkdtemp(prefix="cowprof-test-")

# Forks a short-lived child every 20 ms for ever, writing each child's pid
# and fork time to the file named in argv[1] (flushed before it exits).
FORKER = r"""
import os, sys, time
out = open(sys.argv[1], "w")
while True:
    t = time.time()
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    out.write("%d %.6f\n" % (pid, t))
    out.flush()
    os.waitpid(pid, 0)
    time.sleep(0.02)
"""


def processes(path):
    c = open_session(path)
    return {r[0]: r[1:] for r in c.execute(
        "SELECT pid, exit_code, exit_signal, parent_id, id FROM processes")}


def test_run_records_the_forks_and_exits_after_its_last_sample():
    path = _session_path(TMP, "after-last.db")
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "1", "-o", path, "--",
                        "sh", "-c", 'sleep 1.5; for i in 1 2 3 4 5; do sh -c "exit $i"; '
                        "done; exit 7"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 7, r.stderr
    procs = processes(path)
    assert len(procs) == 7, (procs, r.stderr)
    codes = sorted(v[0] for v in procs.values())
    assert codes == [0, 1, 2, 3, 4, 5, 7], codes  # sleep, the five, the root
    assert "recorded 2 samples of 7 processes" in r.stderr, r.stderr


def assert_recorded(pids_file, path, err, minimum):
    """Every child forked while recording is in the session, with its exit
    code; returns the processes and those children."""
    procs = processes(path)
    forked = forked_while_recording(pids_file, path)
    missing = [p for p in forked if p not in procs]
    assert len(forked) > minimum, forked
    assert not missing, ([forked.index(p) for p in missing], len(forked), err)
    assert all(procs[p][0] == 3 for p in forked), [procs[p] for p in forked[:5]]
    return procs, forked


def forker():
    pids_file = os.path.join(TMP, "forked-%d" % time.monotonic_ns())
    proc = subprocess.Popen([PYTHON, "-c", FORKER, pids_file])
    time.sleep(0.3)
    return proc, pids_file


def read_forks(path):
    with open(path) as f:
        return [(int(p), float(t)) for p, t in (line.split() for line in f if line.strip())]


def forked_while_recording(pids_file, path):
    """The children forked from 0.3 s after the recording started to 0.2 s
    before its end event (what comes after the final read is not its)."""
    c = open_session(path)
    start = float(dict(c.execute("SELECT key, value FROM meta"))["started"])
    (end,) = c.execute("SELECT t FROM events WHERE kind = 'end'").fetchone()
    return [p for p, t in read_forks(pids_file) if start + 0.3 < t < end - 0.2]


def test_record_stopped_by_sigterm_writes_what_came_after_its_last_sample():
    proc, pids_file = forker()
    path = _session_path(TMP, "sigterm.db")
    try:
        rec = subprocess.Popen([COWPROF, "record", "-i", "5", "-o", path, str(proc.pid)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        rec.send_signal(signal.SIGTERM)
        out, err = rec.communicate(timeout=30)
        assert rec.returncode == 0, err
        assert "recorded 1 sample of" in err, err
    finally:
        proc.kill()
        proc.wait()
    procs, forked = assert_recorded(pids_file, path, err, 30)
    root_id = procs[proc.pid][3]
    bad = [(p, procs[p]) for p in forked if procs[p][2] != root_id]
    assert not bad, (root_id, bad[:5])


def test_record_with_duration_writes_what_came_after_its_last_sample():
    proc, pids_file = forker()
    path = _session_path(TMP, "duration.db")
    try:
        r = subprocess.run([COWPROF, "record", "-i", "0.7", "-d", "1.6", "-o", path,
                            str(proc.pid)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    finally:
        proc.kill()
        proc.wait()
    assert_recorded(pids_file, path, r.stderr, 20)


def test_run_starts_its_command_only_when_it_can_record():
    marker = os.path.join(TMP, "ran")
    path = _session_path(TMP, "exists.db")
    open(path, "w").close()
    r = subprocess.run([COWPROF, "run", "-o", path, "--", "sh", "-c", "touch " + marker],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "File exists" in r.stderr, r.stderr
    time.sleep(0.2)
    assert not os.path.exists(marker), "the command ran although nothing could be recorded"


def test_run_sees_the_children_of_its_first_instant():
    path = _session_path(TMP, "first-instant.db")
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "1", "-o", path, "--",
                        "sh", "-c", 'sh -c "exit 1"; sh -c "exit 2"; sleep 0.3; exit 9'],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 9, r.stderr
    codes = sorted(v[0] for v in processes(path).values())
    assert codes == [0, 1, 2, 9], (codes, r.stderr)


# Builds data for a second, then forks two children that read it (copying
# pages) and live 0.2 s each: both end before a 1 s interval's second sample.
TWO_CHILDREN = r"""
import os, time
data = [str(i) * 3 for i in range(200000)]
t = time.time()
while time.time() - t < 1.0:
    pass
kids = []
for k in range(2):
    pid = os.fork()
    if pid == 0:
        n = sum(len(x) for x in data)
        time.sleep(0.2)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)
"""


def test_run_keeps_children_and_faults_of_a_short_program_with_redirected_output():
    path = _session_path(TMP, "two-children.db")
    out = os.path.join(TMP, "two-children.out")
    with open(out, "w") as f:
        r = subprocess.run([COWPROF, "run", "-o", path, "--", PYTHON, "-c", TWO_CHILDREN],
                           stdout=f, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    c = open_session(path)
    procs = c.execute("SELECT id, pid, parent_id FROM processes").fetchall()
    assert len(procs) == 3, (procs, r.stderr)
    root_id = [p[0] for p in procs if p[2] is None][0]
    children = [p[0] for p in procs if p[2] == root_id]
    assert len(children) == 2, procs
    for cid in children:
        (n,) = c.execute("SELECT count(*) FROM faults WHERE process_id = ?",
                         (cid,)).fetchone()
        assert n > 100, (cid, n, r.stderr)


def test_record_under_strace_ends_when_its_duration_does():
    """strace -f stops the recorder at every system call and signals itself
    each time: the signal records that makes once kept the recorder reading
    for ever, -d 2 still spinning after ten minutes."""
    sleeper = subprocess.Popen(["sleep", "120"])
    path = _session_path(TMP, "strace.db")
    try:
        # a hang is the failure (TimeoutExpired), not a slow run
        r = subprocess.run(["strace", "-f", "-o", "/dev/null", COWPROF, "record", "-d", "2",
                            "-o", path, str(sleeper.pid)],
                           capture_output=True, text=True, timeout=90)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert r.returncode == 0, r.stderr[-2000:]
    assert "recorded" in r.stderr, r.stderr[-2000:]
