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
    procs = processes(path)
    forked = forked_while_recording(pids_file, path)
    missing = [p for p in forked if p not in procs]
    assert len(forked) > 30, forked
    assert not missing, ([forked.index(p) for p in missing], len(forked), err)
    assert all(procs[p][0] == 3 for p in forked), [procs[p] for p in forked[:5]]
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
    procs = processes(path)
    forked = forked_while_recording(pids_file, path)
    missing = [p for p in forked if p not in procs]
    assert len(forked) > 20, forked
    assert not missing, ([forked.index(p) for p in missing], len(forked), r.stderr)
