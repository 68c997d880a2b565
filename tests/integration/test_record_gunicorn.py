"""cowprof record on a real gunicorn tree under load, reported in every
format; sessions from newer cowprofs and killed recorders; the polling
fallback without the proc connector."""
import os
import signal
import sqlite3
import subprocess
import threading
import time

from test_report_formats import check_every_format, expect_error, report
from treeutil import COWPROF, Forktree, Gunicorn

TMP = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cowprof-test-rg")


def fresh(name):
    os.makedirs(TMP, exist_ok=True)
    path = os.path.join(TMP, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return path


def load(g, seconds, paths):
    """Bounded traffic on 127.0.0.1: at most 2000 requests or `seconds`."""
    end = time.time() + seconds
    n = 0
    while time.time() < end and n < 2000:
        g.get(paths[n % len(paths)], check=False)
        n += 1
    return n


def test_gunicorn_recording_under_load_in_every_format():
    path = fresh("gunicorn.db")
    with Gunicorn("conf_preload.py", workers=2) as g:
        rec = subprocess.Popen([COWPROF, "record", "-i", "0.5", "-d", "5", "-o", path,
                                str(g.pid)], stderr=subprocess.PIPE, text=True)
        t = threading.Thread(target=load, args=(g, 4.5, ["/", "/", "/touch"]))
        t.start()
        t.join()
        _, err = rec.communicate(timeout=60)
        assert rec.returncode == 0, err
        workers = g.workers
    d, fams = check_every_format(path)
    by_pid = {p["pid"]: p for p in d["processes"]}
    assert by_pid[g.pid]["role"] == "master"
    assert sorted(p["pid"] for p in d["processes"] if p["role"] == "worker") == workers
    # a read-only pass over the dict copies much of it in the worker that served it
    copied = max(by_pid[w]["last"]["copied_kb"] for w in workers)
    assert copied > 50 * 1024, copied
    assert len(d["tree"]) >= 9
    assert "cowprof_copied_bytes" in fams


def test_session_of_a_newer_cowprof_is_refused():
    path = fresh("newer.db")
    with Forktree("-a", "4", "-n", "1", "-w", "1") as ft:
        r = subprocess.run([COWPROF, "record", "-i", "0.1", "-d", "0.5", "-o", path,
                            str(ft.pid)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    c = sqlite3.connect(path)
    c.execute("PRAGMA user_version = 99")
    c.commit()
    c.close()
    expect_error(["report", path], 1, ["written by a newer cowprof", "99"])


def test_report_reads_a_session_whose_recorder_was_killed():
    path = fresh("killed.db")
    with Forktree("-a", "8", "-n", "2", "-w", "50") as ft:
        rec = subprocess.Popen([COWPROF, "record", "-i", "0.1", "-o", path, str(ft.pid)],
                               stderr=subprocess.DEVNULL)
        time.sleep(1.2)
        os.kill(rec.pid, signal.SIGKILL)
        rec.wait(10)
    assert os.path.exists(path + "-wal")  # never checkpointed: read through the WAL
    d, _ = check_every_format(path)
    assert len(d["tree"]) >= 8
    assert {p["pid"] for p in d["processes"]} == set(ft.procs)


def test_without_the_proc_connector_exits_are_found_by_polling():
    path = fresh("polling.db")
    with Forktree("-a", "4", "-n", "2", "-w", "1") as ft:
        child = [p["pid"] for p in ft.ready["processes"] if p["role"] == "child"][0]
        env = dict(os.environ, COWPROF_NO_CONNECTOR="1")
        rec = subprocess.Popen([COWPROF, "record", "-i", "0.1", "-d", "1.5", "-o", path,
                                str(ft.pid)], stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(0.6)
        os.kill(child, signal.SIGKILL)
        _, err = rec.communicate(timeout=30)
        assert rec.returncode == 0, err
        assert "by polling" in err, err
    c = sqlite3.connect(path)
    assert c.execute("SELECT value FROM meta WHERE key = 'connector'").fetchone()[0] == "polling"
    row = c.execute("SELECT exit_time, exit_code, exit_signal FROM processes WHERE pid = ?",
                    (child,)).fetchone()
    assert row[0] is not None and row[1] is None and row[2] is None, row
    assert c.execute("SELECT detail FROM events WHERE kind = 'exit' AND pid = ?",
                     (child,)).fetchone()[0] == "vanished between samples"
    text = report(path, "text").stdout
    assert str(child) in text
