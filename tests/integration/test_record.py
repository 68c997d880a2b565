"""cowprof record and run on real trees: the copy-on-write curve over time,
exits with their code or signal, respawns, a recorder killed mid-run, the
session's size, and bad input."""
import math
import os
import signal
import subprocess
import tempfile
import time

from treeutil import COWPROF, PYTHON, Forktree, open_session, run, wait_gone
from treeutil import session_path as _session_path

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="cowprof-test-")


def session_path(name):
    return _session_path(TMP, name)


db = open_session






def record(path, pid, *args):
    return subprocess.Popen([COWPROF, "record", "-o", path, *args, str(pid)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_copied_figures_follow_the_write_schedule():
    path = session_path("schedule.db")
    step_pages, step_s = 64, 0.4
    with Forktree("-a", "32", "-s", "0", "-n", "2", "-w", "16",
                  "-k", str(step_pages), "-K", str(int(step_s * 1000))) as ft:
        t0 = time.time()
        rec = record(path, ft.pid, "-i", "0.1", "-d", "3")
        out, err = rec.communicate(timeout=60)
        assert rec.returncode == 0, err
    c = db(path)
    children = [p["pid"] for p in ft.ready["processes"] if p["role"] == "child"]
    rows = c.execute("SELECT p.pid, s.t, ps.copied_kb FROM proc_samples ps"
                     " JOIN processes p ON p.id = ps.process_id"
                     " JOIN samples s ON s.id = ps.sample_id ORDER BY s.t").fetchall()
    assert len({r[1] for r in rows}) >= 25, len(rows)
    checked = 0
    for pid, t, copied_kb in rows:
        if pid not in children:
            continue

        def expect(at):
            steps = max(0, math.floor((at - t0) / step_s))
            return min(16 + step_pages * steps, 8192) * 4

        # within one interval of the schedule, plus a few pages of stack
        assert expect(t - 0.15) <= copied_kb <= expect(t + 0.15) + 64, (pid, t - t0, copied_kb)
        checked += 1
    assert checked >= 50
    last = max(r[2] for r in rows if r[0] in children)
    assert last >= (16 + step_pages * 6) * 4, last  # it really grew


def test_exits_signals_and_respawns_are_recorded():
    path = session_path("respawn.db")
    tree = subprocess.Popen([PYTHON, os.path.join(HERE, "trees", "respawn_tree.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        _, root, a, b = tree.stdout.readline().split()
        root, a, b = int(root), int(a), int(b)
        rec = record(path, root, "-i", "0.1", "-d", "2.5")
        time.sleep(1.2)
        os.kill(a, signal.SIGKILL)
        out, err = rec.communicate(timeout=60)
        assert rec.returncode == 0, err
    finally:
        os.kill(tree.pid, signal.SIGTERM)
        tree.wait(10)
    c = db(path)
    procs = {r[0]: r[1:] for r in c.execute(
        "SELECT pid, ppid, exit_code, exit_signal FROM processes")}
    assert procs[a][2] == 9 and procs[a][1] is None, procs[a]
    assert procs[b][1] == 3 and procs[b][2] is None, procs[b]
    respawned = [pid for pid, (ppid, code, sig) in procs.items()
                 if ppid == root and pid not in (a, b)]
    assert len(respawned) == 2, procs
    forks = {r[0] for r in c.execute("SELECT pid FROM events WHERE kind = 'fork'")}
    assert set(respawned) <= forks
    details = {r[0]: r[1] for r in c.execute("SELECT pid, detail FROM events WHERE kind = 'exit'")}
    assert details[a] == "killed by SIGKILL" and details[b] == "exit 3", details
    parent = c.execute("SELECT id FROM processes WHERE pid = ?", (root,)).fetchone()[0]
    for pid in respawned:
        assert c.execute("SELECT parent_id FROM processes WHERE pid = ?",
                         (pid,)).fetchone()[0] == parent


def test_recorder_killed_mid_run_leaves_a_readable_session():
    path = session_path("killed.db")
    with Forktree("-a", "16", "-n", "3", "-w", "100") as ft:
        rec = record(path, ft.pid, "-i", "0.1")
        time.sleep(1.5)
        os.kill(rec.pid, signal.SIGKILL)
        rec.wait(10)
    c = db(path)
    samples = c.execute("SELECT count(*) FROM samples").fetchone()[0]
    assert samples >= 8, samples
    # every committed sample is whole: all four processes in it
    per = c.execute("SELECT count(*) FROM proc_samples GROUP BY sample_id").fetchall()
    assert len(per) == samples and all(n == 4 for (n,) in per), per
    assert c.execute("PRAGMA user_version").fetchone()[0] == 3


def test_session_stays_small():
    path = session_path("size.db")
    with Forktree("-a", "16", "-n", "3", "-w", "100", "-k", "4", "-K", "200") as ft:
        rec = record(path, ft.pid, "-i", "0.05", "-d", "6")
        rec.communicate(timeout=60)
    c = db(path)
    proc_samples = c.execute("SELECT count(*) FROM proc_samples").fetchone()[0]
    size = os.path.getsize(path)
    per_process_hour = size / proc_samples * 3600
    print("      session: %d bytes for %d process-samples: %.0f kB per process-hour at 1 s"
          % (size, proc_samples, per_process_hour / 1000))
    assert per_process_hour <= 1e6, per_process_hour


def test_run_forwards_sigterm_and_exits_with_the_status():
    path = session_path("run.db")
    p = subprocess.Popen([COWPROF, "run", "-i", "0.1", "-o", path, "--",
                          os.path.join(os.path.dirname(COWPROF), "forktree"),
                          "-a", "8", "-n", "2", "-w", "10"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert '"ready":true' in line
    time.sleep(0.5)
    os.kill(p.pid, signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, (p.returncode, err)
    c = db(path)
    rows = c.execute("SELECT pid, exit_code FROM processes").fetchall()
    assert len(rows) == 3 and all(code == 0 for _, code in rows), rows


def test_run_exits_with_the_commands_code_and_records_from_the_start():
    path = session_path("run3.db")
    script = "import os, time\nif os.fork() == 0:\n    time.sleep(0.3); os._exit(0)\ntime.sleep(0.6)\nos._exit(5)\n"
    r = subprocess.run([COWPROF, "run", "-i", "0.1", "-o", path, "--", PYTHON, "-c", script],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 5, (r.returncode, r.stderr)
    c = db(path)
    rows = dict(c.execute("SELECT pid, exit_code FROM processes").fetchall())
    assert len(rows) == 2 and sorted(rows.values()) == [0, 5], rows
    assert c.execute("SELECT cmd FROM processes ORDER BY id").fetchone()[0].startswith(PYTHON)


def test_record_bad_input():
    def expect(args, status, words):
        r = run(*args, check=False)
        assert r.returncode == status, (args, r.returncode, r.stderr)
        line = r.stderr.strip()
        assert line.startswith("cowprof: ") and "\n" not in line, line
        for w in words:
            assert w in line, (args, line)
    expect(["record"], 2, ["missing PID"])
    expect(["record", "0"], 2, ["not a valid pid"])
    expect(["record", "-i", "0.01", "1"], 2, ["-i wants seconds"])
    expect(["record", "-d", "x", "1"], 2, ["-d wants"])
    expect(["record", "-o", os.path.join(TMP, "k.db"), "2"], 1, ["kernel thread"])
    with open("/proc/sys/kernel/pid_max") as f:
        missing = int(f.read()) + 1
    expect(["record", str(missing)], 1, ["no such process"])
    existing = os.path.join(TMP, "exists.db")
    open(existing, "w").close()
    with Forktree("-a", "4", "-n", "1", "-w", "1") as ft:
        expect(["record", "-d", "1", "-o", existing, str(ft.pid)], 1, ["File exists"])
    expect(["run"], 2, ["missing CMD"])
    expect(["run", "--", "/nonexistent/cmd"], 1, ["cannot run /nonexistent/cmd"])
