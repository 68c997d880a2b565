"""Why a process hung or died, as a recorded session tells it:
real processes under `cowprof run`, then the session's tables, `report`
(text and JSON) and the TUI. Three stories: the gunicorn + Manager hang
(a killed worker's atexit SIGTERMs the Manager's data process; the
respawned worker blocks for ever on a connection nobody accepts), a
multiprocessing.Pool child SIGKILLed from an operator's shell (the map
never returns), and a real OOM kill in a memory cgroup made by the test."""
import json
import os
import signal
import subprocess
import tempfile
import time

from test_sigtrace import MemoryCgroup
from tmuxutil import Tmux
from treeutil import COWPROF, PYTHON, ROOT, open_session
from treeutil import session_path as _session_path

MP_DIR = os.path.join(ROOT, "samples", "mp")
TMP = tempfile.mkdtemp(prefix="cowprof-why-")


def session_path(name):
    return _session_path(TMP, name)


def result_of(stdout, tag="RESULT "):
    lines = [ln for ln in stdout.splitlines() if ln.startswith(tag)]
    assert len(lines) == 1, stdout[-3000:]
    return json.loads(lines[0][len(tag):])


def report(path, fmt="text"):
    r = subprocess.run([COWPROF, "report", "--format", fmt, path], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if fmt == "json" else r.stdout


def processes(c):
    cols = ["id", "pid", "parent_id", "fork_time", "exit_time", "exit_code", "exit_signal"]
    return {r[1]: dict(zip(cols, r))
            for r in c.execute("SELECT %s FROM processes" % ", ".join(cols))}


def signals_to(c, pid, sig):
    cols = ["t", "signal", "code", "sender_pid", "sender_cmd", "sender_process_id",
            "sender_exiting", "result"]
    return [dict(zip(cols, r)) for r in c.execute(
        "SELECT %s FROM signals WHERE pid = ? AND signal = ? ORDER BY t" % ", ".join(cols),
        (pid, sig))]


def by_pid(rep):
    return {p["pid"]: p for p in rep["processes"]}


def stop(proc):
    """End a `cowprof run` we started, by pid (it passes SIGTERM on to its
    command), if a test failed before it ended."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- (a) gunicorn + multiprocessing.Manager ------------------------------------

def test_manager_data_process_sigtermed_by_dying_worker_and_replacement_hung():
    path = session_path("why-manager.db")
    r = subprocess.run([COWPROF, "run", "-i", "0.1", "--hung-after", "2", "-o", path, "--",
                        PYTHON, os.path.join(MP_DIR, "manager_gunicorn.py"),
                        "--pause", "0.5", "--watch", "3"],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    res = result_of(r.stdout)
    assert res["stuck"] is True, res
    c = open_session(path)
    meta = dict(c.execute("SELECT key, value FROM meta"))
    assert meta["signals"] == "perf" and meta["hung_after_s"] == "2", meta
    procs = processes(c)
    data, killed, new = procs[res["data"]], procs[res["killed"]], procs[res["respawned"]]
    # the data process died of one SIGTERM, sent by the worker the driver
    # SIGTERMed, from its atexit handler, just before that worker exited
    assert data["exit_signal"] == 15, data
    (term,) = signals_to(c, data["pid"], 15)
    assert term["sender_pid"] == killed["pid"], (term, killed)
    assert term["sender_process_id"] == killed["id"], term
    assert term["sender_exiting"] == 1 and term["code"] == 0, term
    assert term["result"] == "delivered", term
    assert term["t"] <= killed["exit_time"] + 0.05, (term, killed)
    (drv,) = signals_to(c, killed["pid"], 15)    # the driver's SIGTERM to the worker
    assert drv["sender_pid"] == res_driver(procs, res), drv

    rep = report(path, "json")
    p = by_pid(rep)
    assert p[data["pid"]]["exit_cause"] == \
        "SIGTERM from %d (python3, exiting)" % killed["pid"], p[data["pid"]]
    assert p[killed["pid"]]["exit_cause"] == "exit 0"
    # the replacement hung from post_fork on: reading a unix socket whose
    # connection the Manager's listener never accepted (its only acceptor,
    # the data process, is dead); the listener is held by the master and
    # the workers, which inherited it
    hung = p[new["pid"]]["hung"]
    assert hung is not None, p[new["pid"]]
    assert hung["syscall"].startswith("read(fd "), hung
    assert hung["wchan"] == "unix_stream_read_generic", hung
    # (to its end, or to the master's SIGTERM at shutdown: the worker still
    # runs the master's Python handlers, which wake it up)
    assert hung["state"] == "S", hung
    assert hung["since"] - new["fork_time"] < 1.0, (hung, new)
    assert hung["seconds"] >= 3.0, hung
    on = hung["blocked_on"]
    assert "on unix stream socket, connection not accepted yet: queued on listener " in on, on
    assert "/data.sock held by %d (python3)" % res["master"] in on, on
    assert "%d (itself)" % new["pid"] in on, on
    # and where in Python: the Manager client's handshake, from post_fork
    py = hung["python"]
    assert py.startswith("Connection._recv (connection.py:"), py
    assert " < BaseManager.connect (managers.py:" in py, py
    assert " < post_fork (manager_gunicorn_conf.py:" in py, py
    assert rep["why"]["hung"] >= 1 and rep["why"]["signals_source"] == "perf", rep["why"]
    # nobody else of the tree is called hung but the workers stuck at exit
    # on the same dead Manager
    assert {q["pid"] for q in rep["processes"] if q["hung"]} <= \
        set(res["workers"]) | {new["pid"]}, [q for q in rep["processes"] if q["hung"]]

    text = report(path)
    why = text.split("\nwhy processes hung or died\n", 1)[1].split("\nevents\n", 1)[0]
    assert "    %d worker at " % data["pid"] not in why  # a child of the master
    assert ": SIGTERM from %d (python3, exiting)\n" % killed["pid"] in why, why
    assert "    %d child: hung " % new["pid"] in why, why
    assert ", in %s [unix_stream_read_generic]" % hung["syscall"] in why, why
    assert "\n      in Python: Connection._recv (connection.py:" in why, why
    assert "SIGTERM  to %d from %d (python3, in the tree, exiting): delivered" \
        % (data["pid"], killed["pid"]) in why, why


def res_driver(procs, res):
    """The driver script: the root of the session (the master's parent)."""
    master = procs[res["master"]]
    (driver,) = [p["pid"] for p in procs.values() if p["id"] == master["parent_id"]]
    return driver


# -- (b) a Pool child SIGKILLed from a shell -----------------------------------

def test_pool_child_killed_from_a_shell_names_the_shell_and_the_parent_waits():
    path = session_path("why-pool.db")
    run = subprocess.Popen([COWPROF, "run", "-i", "0.1", "--hung-after", "2", "-o", path, "--",
                            PYTHON, os.path.join(MP_DIR, "pool_child_killed.py"),
                            "--killer", "none", "--timeout", "6"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = run.stdout.readline()      # "parent P, pool children A B"
        assert first.startswith("parent "), first
        victim = int(first.split("pool children ")[1].split()[0])
        assert run.stdout.readline().startswith("waiting for someone"), first
        time.sleep(0.5)                    # the child is in its first task
        sh = subprocess.Popen(["sh", "-c", "kill -9 %d" % victim])
        assert sh.wait(10) == 0
        out, err = run.communicate(timeout=60)
    finally:
        stop(run)
    assert run.returncode == 0, (run.returncode, err[-2000:])
    res = result_of(first + out)
    assert res["hung"] is True, res
    c = open_session(path)
    procs = processes(c)
    assert procs[victim]["exit_signal"] == 9, procs[victim]
    (kill,) = signals_to(c, victim, 9)
    assert kill["sender_pid"] == sh.pid and kill["sender_cmd"] == "sh", kill
    assert kill["sender_process_id"] is None, kill     # not of the tree
    assert kill["sender_exiting"] == 1 and kill["code"] == 0, kill

    rep = report(path, "json")
    p = by_pid(rep)
    assert p[victim]["exit_cause"] == "SIGKILL from %d (sh, exiting)" % sh.pid, p[victim]
    # the parent waited in map_async().get() with no progress until its
    # timeout: the main thread in futex, no CPU, no memory change
    parent = p[res["parent"]]
    hung = parent["hung"]
    assert hung is not None, parent
    assert (hung["syscall"], hung["wchan"], hung["state"]) == ("futex", "futex_do_wait", "S"), hung
    assert hung["blocked_on"] == "futex wait (a lock or condition)", hung
    assert " < ApplyResult.get (pool.py:" in hung["python"], hung
    assert " < main (pool_child_killed.py:" in hung["python"], hung
    kill_t = kill["t"]
    assert hung["since"] < kill_t + 4 and hung["seconds"] >= 2.0, (hung, kill_t)
    assert hung["since"] + hung["seconds"] <= kill_t + 6.5, (hung, kill_t)
    (sig,) = [g for g in rep["why"]["signals"] if g["signal"] == 9]
    assert sig["sender_in_tree"] is False and sig["sender_exiting"] is True, sig

    text = report(path)
    assert "SIGKILL  to %d from %d (sh, exiting): delivered" % (victim, sh.pid) in text, text
    assert "    %d master: hung " % res["parent"] in text, text
    assert ", in futex [futex_do_wait]" in text, text
    check_tui(path, c, res["parent"], victim, sh.pid, hung)


def check_tui(path, c, parent, victim, sender, hung):
    """view: the tree screen's WAIT / EXIT column says what each process
    waits on ("HUNG ..." inside its hang) and, on the killed child's row,
    who killed it; the tree's timeline marks the SIGKILL."""
    times = [t for (t,) in c.execute("SELECT t FROM samples ORDER BY id")]
    # a sample well inside the parent's hang, then how far back from the end
    inside = [k for k, t in enumerate(times)
              if hung["since"] + 2.2 <= t <= hung["since"] + hung["seconds"]]
    assert inside, (hung, times[-5:])
    back = len(times) - 1 - inside[0]
    with Tmux("%s view %s" % (COWPROF, path), x=160, y=30) as t:
        screen = t.wait_for("WAIT / EXIT")
        row = [ln for ln in screen.splitlines() if ln.lstrip().startswith("%d " % victim)]
        assert row and row[0].endswith("SIGKILL from %d (sh, exiting)" % sender), screen
        for _ in range(back):
            t.keys("Left")
        screen = t.wait_for(r"sample %d/" % (inside[0] + 1))
        row = [ln for ln in screen.splitlines() if ln.lstrip().startswith("%d " % parent)]
        assert row and "  HUNG " in row[0] and \
            row[0].endswith("futex wait (a lock or condition)"), screen
        t.keys("Enter")
        screen = t.wait_for(r"\n signals +.*K")
        (marks,) = [ln for ln in screen.splitlines() if ln.startswith(" signals ")]
        assert marks.count("K") == 1, screen
        t.keys("q")


# -- (c) a real OOM kill in a memory cgroup ----------------------------------

OOM = """
import multiprocessing, os, sys, time
cg = sys.argv[1]
def enter():
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
def hog(_):
    chunks = []
    for i in range(100):                  # 2 MiB every 30 ms: 200 MiB
        chunks.append(bytearray(b"x") * (2 << 20))
        time.sleep(0.03)
    return len(chunks)
pool = multiprocessing.get_context("fork").Pool(1, initializer=enter)
child = pool._pool[0].pid
r = pool.map_async(hog, [0])
try:
    r.get(timeout=4)
    hung = False
except multiprocessing.TimeoutError:
    hung = True
pool.terminate()
pool.join()
print("RESULT {\\"child\\": %d, \\"hung\\": %s}" % (child, "true" if hung else "false"))
"""


def run_oom(name, env=None):
    """The OOM script under `cowprof run`, in a 64 MiB cgroup removed after:
    (the run, the cgroup as the kernel names it, the session path)."""
    cg = MemoryCgroup(64 << 20)
    try:
        path = session_path(name)
        r = subprocess.run([COWPROF, "run", "-i", "0.1", "-o", path, "--",
                            PYTHON, "-c", OOM, cg.path],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **(env or {})))
    finally:
        cg.remove()
    return r, cg.rel(), path


def test_without_perf_one_notice_and_the_oom_kill_from_the_kernel_log():
    r, rel, path = run_oom("why-oom-kmsg.db", {"COWPROF_NO_PERF": "1"})
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    notices = [ln for ln in r.stderr.splitlines() if "signal senders" in ln]
    assert notices == ["cowprof: signal senders not recorded (disabled by COWPROF_NO_PERF); "
                       "exit statuses from the proc connector, OOM kills from /dev/kmsg"], \
        r.stderr
    child = result_of(r.stdout)["child"]
    c = open_session(path)
    meta = dict(c.execute("SELECT key, value FROM meta"))
    assert meta["signals"] == "absent: disabled by COWPROF_NO_PERF", meta
    assert meta["oom_kills"] == "kmsg", meta
    assert c.execute("SELECT count(*) FROM signals").fetchone()[0] == 0
    ((pid, anon, cgroup),) = c.execute("SELECT pid, anon_rss_kb, cgroup FROM oom_kills")
    assert pid == child and cgroup == rel and 48 * 1024 <= anon <= 96 * 1024, (pid, cgroup, anon)
    cause = by_pid(report(path, "json"))[child]["exit_cause"]
    assert cause == "SIGKILL by the OOM killer (cgroup %s, anon %.0f MiB)" % (rel, anon / 1024)
    text = report(path)
    assert "  signals sent to the tree (absent: disabled by COWPROF_NO_PERF): none\n" in text, text


def test_oom_kill_in_a_memory_cgroup_with_the_memory_curve():
    r, rel, path = run_oom("why-oom.db")
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    res = result_of(r.stdout)
    assert res["hung"] is True, res
    child = res["child"]
    c = open_session(path)
    procs = processes(c)
    assert procs[child]["exit_signal"] == 9, procs[child]
    ((t, pid, anon, total, cgroup),) = c.execute(
        "SELECT t, pid, anon_rss_kb, total_vm_kb, cgroup FROM oom_kills").fetchall()
    assert pid == child and cgroup == rel, (pid, cgroup, rel)
    # anon counts what the child inherited from the parent too, charged to
    # the parent's cgroup: more than the limit
    assert 48 * 1024 <= anon <= 96 * 1024 and total > anon, (anon, total)
    assert abs(t - procs[child]["exit_time"]) < 0.5, (t, procs[child])
    # the memory curve up to the kill: growing, sampled several times, its
    # last point within 16 MiB below the victim's memory at the kill
    curve = [a for (a,) in c.execute(
        "SELECT ps.anon_kb FROM proc_samples ps JOIN samples s ON s.id = ps.sample_id"
        " WHERE ps.process_id = ? ORDER BY s.id", (procs[child]["id"],))]
    assert len(curve) >= 5, curve
    grow = [a for a in curve if a > curve[0]]
    assert len(grow) >= 3 and grow == sorted(grow), curve
    assert anon - 16 * 1024 <= max(curve) <= anon, (curve, anon)

    rep = report(path, "json")
    cause = by_pid(rep)[child]["exit_cause"]
    assert cause == "SIGKILL by the OOM killer (cgroup %s, anon %.0f MiB)" \
        % (rel, anon / 1024), cause
    (o,) = rep["why"]["oom_kills"]
    assert o["pid"] == child and o["cgroup"] == rel, o
    text = report(path)
    assert "  OOM kills (perf+kmsg):\n" in text, text
    assert "%d (" % child in text.split("OOM kills")[1] and "in cgroup %s: anon " % rel in text
