"""Crafted session files end in one line and exit 1, never in a loop:
a process that is its own parent (view spun ignoring q and signals) and
timestamps of 1e300 (the HTML report wrote gigabytes of ticks)."""
import os
import sqlite3
import subprocess
import tempfile

from treeutil import COWPROF

TMP = tempfile.mkdtemp(prefix="cowprof-test-")


def recorded(name):
    path = os.path.join(TMP, name)
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.1", "-o", path, "--",
                        "sh", "-c", "sleep 0.3 & wait"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return path


def craft(path, sql):
    c = sqlite3.connect(path)
    c.execute(sql)
    c.commit()
    c.close()


def expect_refused(args, words):
    r = subprocess.run([COWPROF, *args], capture_output=True, text=True, timeout=20,
                       env=dict(os.environ, TERM="xterm"))
    assert r.returncode == 1, (args, r.returncode, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and all(w in line for w in words), line
    assert r.stdout == "", r.stdout[:200]


def test_own_parent_refused_by_view_and_report():
    path = recorded("cycle.db")
    craft(path, "UPDATE processes SET parent_id = id")
    for args in (["view", path], ["report", path], ["report", "--format", "html", path],
                 ["compare", path, path]):
        expect_refused(args, ["not a valid session", "its own ancestor"])


def test_absurd_timestamps_refused_by_every_format():
    path = recorded("times.db")
    craft(path, "UPDATE samples SET t = 1e300 WHERE id = (SELECT max(id) FROM samples)")
    for fmt in ("text", "json", "csv", "html", "openmetrics", "folded"):
        expect_refused(["report", "--format", fmt, path], ["not a valid session", "1e+300"])
