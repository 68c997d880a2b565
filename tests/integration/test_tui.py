"""cowprof view: the replay TUI on a real recording (a forktree of two
children writing 100 and 300 pages), driven through tmux (send-keys,
capture-pane) on a private server, and checked by content: every pid
shows, a child's copied figure equals `report --format json` at the same
time position (End = the last sample), the timeline screen, resizes
(80x24 and 200x60 readable, 60x20 the too-small message), q exits 0;
bad files, an unknown TERM and usage errors. `view A B` on two recordings
of forktrees with different write schedules: the compare screen shows
both labels and the figures `cowprof compare A B` prints."""
import csv
import io
import json
import os
import re
import subprocess
import tempfile
import time

from tmuxutil import Tmux
from treeutil import COWPROF, Forktree, run

TMP = tempfile.mkdtemp(prefix="cowprof-tui-test-")

_session = {}


def recorded():
    """A 2 s recording of a forktree, ended by -d, the tree then stopped."""
    if "path" not in _session:
        path = os.path.join(TMP, "forktree.db")
        with Forktree("-a", "16", "-n", "2", "-w", "100,300") as tree:
            run("record", "-i", "0.2", "-d", "2", "-o", path, str(tree.pid))
            pids = sorted(tree.procs)
        _session["path"] = path
        _session["pids"] = pids
        _session["report"] = json.loads(run("report", "--format", "json", path).stdout)
    return _session["path"], _session["report"]


def two_recorded():
    """Two 2 s recordings of forktrees writing 100 and 300 pages per child
    once ("steady"), and the same then 64 more pages every 0.2 s
    ("writing")."""
    if "two" not in _session:
        paths = []
        for name, extra in (("steady", ()), ("writing", ("-k", "64", "-K", "200"))):
            path = os.path.join(TMP, name + ".db")
            with Forktree("-a", "16", "-n", "2", "-w", "100,300", *extra,
                          short=True) as tree:
                run("record", "-i", "0.2", "-d", "2", "-o", path, str(tree.pid))
            paths.append(path)
        _session["two"] = paths
    return _session["two"]


def compare_rows(paths):
    """`cowprof compare` text: {row label: [cell per session]}."""
    rows = {}
    for line in run("compare", *paths).stdout.splitlines()[1:]:
        parts = re.split(r"\s{2,}", line.strip())
        rows[parts[0]] = parts[1:]
    return rows


def format_size(kb):
    """tui_format_size: at most 6 columns."""
    if kb < 10000:
        return "%dK" % kb
    v, units = kb / 1024, "MGT"
    u = 0
    while v >= 999.95 and u < 2:
        v /= 1024
        u += 1
    return "%.1f%s" % (v, units[u])


def view(path, x=120, y=40, env=""):
    return Tmux("%s%s view %s" % (env, COWPROF, path), x, y)


def check_readable(text, pids):
    assert "terminal too small" not in text, text
    assert "cowprof view" in text and "time +" in text, text
    for pid in pids:
        assert re.search(r"\b%d\b" % pid, text), (pid, text)


def select_pid(t, pid):
    """Move the cursor down until the selected line names pid."""
    for _ in range(10):
        text = t.screen()
        if re.search(r"^pid %d " % pid, text, re.M):
            return text
        t.keys("j")
        time.sleep(0.15)
    raise AssertionError("cannot select pid %d:\n%s" % (pid, t.screen()))


def test_view_shows_every_pid_and_report_figures():
    path, rep = recorded()
    pids = [p["pid"] for p in rep["processes"]]
    assert len(pids) == 3, pids
    with view(path) as t:
        text = t.wait_for(r"sample \d+/\d+")
        t.keys("G")
        n = len(rep["tree"])
        text = t.wait_for(r"sample %d/%d" % (n, n))
        check_readable(text, pids)
        for p in rep["processes"]:
            if p["role"] != "worker":
                continue
            copied = p["last"]["copied_kb"]
            assert copied > 0, p
            text = select_pid(t, p["pid"])
            assert re.search(r"^pid %d worker: shared \d+ KiB, copied %d KiB"
                             % (p["pid"], copied), text, re.M), (copied, text)
            row = [l for l in text.splitlines() if re.match(r"\s*%d " % p["pid"], l)]
            assert row and " %s " % format_size(copied) in row[0], (format_size(copied), row)


def test_view_figures_at_a_time_position_match_csv():
    """Seek to the 4th sample: a child's copied figure is the CSV row of
    that sample."""
    path, rep = recorded()
    rows = list(csv.DictReader(io.StringIO(run("report", "--format", "csv", path).stdout)))
    times = sorted({r["time"] for r in rows})
    k = 3
    child = [p for p in rep["processes"] if p["role"] == "worker"][-1]["pid"]
    want = [r for r in rows if r["time"] == times[k] and int(r["pid"]) == child]
    assert want, (child, times[k])
    with view(path) as t:
        t.wait_for(r"sample \d+/\d+")
        t.keys("g")
        t.wait_for(r"sample 1/%d" % len(times))
        for _ in range(k):
            t.keys("Right")
        t.wait_for(r"sample %d/%d" % (k + 1, len(times)))
        text = select_pid(t, child)
        assert re.search(r"^pid %d worker: shared %s KiB, copied %s KiB"
                         % (child, want[0]["shared_with_parent_kb"], want[0]["copied_kb"]),
                         text, re.M), (want[0], text)


def test_view_follows_a_growing_session():
    """View a session while it is recorded: the sample count grows, and at
    the end the view shows the last sample."""
    path = os.path.join(TMP, "growing.db")
    with Forktree("-a", "8", "-n", "1", "-w", "10") as tree:
        rec = subprocess.Popen([COWPROF, "record", "-i", "0.2", "-d", "4", "-o", path,
                                str(tree.pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            end = time.time() + 10
            while not os.path.exists(path) and time.time() < end:
                time.sleep(0.05)
            time.sleep(0.3)
            with view(path) as t:
                first = int(t.wait_for(r"sample \d+/(\d+)").split("sample ")[1]
                            .split("/")[1].split()[0])
                assert rec.wait(30) == 0
                time.sleep(1.5)  # the view checks the file every second
                n = len(json.loads(run("report", "--format", "json", path).stdout)["tree"])
                assert n > first, (n, first)
                t.wait_for(r"sample %d/%d" % (n, n), timeout=5)
        finally:
            if rec.poll() is None:
                rec.kill()
                rec.wait()


def test_view_timeline_screen():
    path, rep = recorded()
    child = [p for p in rep["processes"] if p["role"] == "worker"][0]["pid"]
    with view(path) as t:
        t.wait_for(r"sample \d+/\d+")
        t.keys("Tab")
        # the whole screen, not its first lines (one refresh may reach
        # tmux in several writes)
        text = t.wait_for(r"(?s)whole tree.*\^ now")
        assert "real memory" in text and "events" in text, text
        t.keys("1")
        t.wait_for(r"PROCESS")
        select_pid(t, child)
        t.keys("2")
        text = t.wait_for(r"pid %d worker .*copied since fork" % child)
        assert re.search(r"copied \d", text) and "^ now" in text, text
        assert re.search(r"^\s+events", text, re.M), text
        t.keys("3")
        text = t.wait_for(r"regions of pid %d" % child)
        assert "COPIED" in text, text
        t.keys("4")
        t.wait_for(r"no fault data")
        t.keys("?")
        t.wait_for(r"replay slower / faster")


def test_view_resizes():
    path, rep = recorded()
    pids = [p["pid"] for p in rep["processes"]]
    with view(path) as t:
        check_readable(t.wait_for(r"sample \d+/\d+"), pids)
        t.resize(80, 24)
        time.sleep(0.5)
        text = t.wait_for(r"q quit")
        check_readable(text, pids)
        assert max(len(l) for l in text.splitlines()) <= 80
        t.keys("?")                          # the whole help fits 80x24
        text = t.wait_for(r"Root: the tree's timeline")
        assert "up/down, j/k" in text and "mouse " in text, text
        t.keys("?")
        t.wait_for(r"PROCESS")
        t.resize(200, 60)
        time.sleep(0.5)
        check_readable(t.wait_for(r"q quit"), pids)
        t.resize(60, 20)
        t.wait_for(r"terminal too small: need 80x24")
        t.resize(120, 40)
        check_readable(t.wait_for(r"q quit"), pids)


def test_view_q_exits_zero_and_restores_terminal():
    path, _ = recorded()
    with view(path) as t:
        t.wait_for(r"sample \d+/\d+")
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text
        assert "cowprof view" not in text, text  # the alternate screen is gone


def test_view_sigterm_restores_terminal():
    path, _ = recorded()
    with view(path) as t:
        t.wait_for(r"sample \d+/\d+")
        pid = subprocess.run(["pgrep", "-f", "^%s view %s" % (COWPROF, path)],
                             capture_output=True, text=True).stdout.split()
        assert pid, "no cowprof view process"
        for p in pid:
            os.kill(int(p), 15)
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=143" in text, text


def test_view_unknown_term():
    path, _ = recorded()
    with view(path, env="TERM=nonexistent ") as t:
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=1" in text, text
        assert "unknown terminal type 'nonexistent'" in text, text


def test_view_bad_files():
    bad = os.path.join(TMP, "not-a-session.txt")
    with open(bad, "w") as f:
        f.write("hello, not a database\n" * 100)
    for path in (bad, os.path.join(TMP, "missing.db")):
        r = run("view", path, check=False)
        assert r.returncode == 1, (path, r.returncode, r.stderr)
        assert r.stderr.startswith("cowprof: ") and r.stderr.count("\n") == 1, r.stderr
    assert "not a cowprof session" in run("view", bad, check=False).stderr
    # the same inside a terminal: the error comes before curses starts
    with view(bad) as t:
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=1" in text and "not a cowprof session" in text, text


def test_view_usage():
    r = run("view", "--help")
    assert "usage: cowprof view FILE [FILE...]" in r.stdout
    assert run("view", "--version").stdout.startswith("cowprof ")
    for args in ([], ["--bogus", "a.db"]):
        r = run("view", *args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("cowprof: view: "), r.stderr
    assert "view" in run("--help").stdout


def test_view_needs_a_terminal():
    path, _ = recorded()
    r = run("view", path, check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr == "cowprof: view: needs a terminal (stdin and stdout)\n", r.stderr


def check_compare(text, paths, rows, width):
    """Both labels, and the copied figure of each session as compare
    prints it."""
    assert "terminal too small" not in text, text
    assert max(len(l) for l in text.splitlines()) <= width, text
    assert "2 sessions, by time since the first fork" in text, text
    for i, name in enumerate(("steady", "writing")):
        assert re.search(r"^[> ] %d %s: \S*forktree -a 16 -n 2 -w 100,300" % (i + 1, name),
                         text, re.M), (name, text)
    assert re.search(r"-k 64 -K 200", text), text
    line = [l for l in text.splitlines() if l.startswith("copied per worker (median)")]
    assert line, text
    cells = re.split(r"\s{2,}", line[0].strip())[1:]
    assert cells == rows["copied per worker (median)"], (cells, rows)
    assert "copied per worker (average)" in text, text


def test_view_compare_two_sessions():
    paths = two_recorded()
    rows = compare_rows(paths)
    steady, writing = rows["copied per worker (median)"]
    # the schedules differ: the writing tree copied more
    assert float(writing.split()[0]) > float(steady.split()[0]), rows
    with Tmux("%s view %s" % (COWPROF, " ".join(paths)), 120, 40) as t:
        text = t.wait_for(r"sessions, by time since")
        check_compare(text, paths, rows, 120)
        assert "> 1 steady" in text, text
        t.resize(80, 24)
        time.sleep(0.5)
        check_compare(t.wait_for(r"q quit"), paths, rows, 80)
        t.resize(200, 60)
        time.sleep(0.5)
        text = t.wait_for(r"shared with parent per worker")
        check_compare(text, paths, rows, 200)
        # every row compare prints, both charts
        for label, cells in rows.items():
            if label in ("target",):
                continue
            line = [l for l in text.splitlines() if l.startswith(label)]
            assert line and re.split(r"\s{2,}", line[0].strip())[1:] == cells, (label, text)
        # c: the next curve; down: the second session, whose tree 1 shows
        t.keys("c")
        t.wait_for(r"(?s)shared with parent per worker.*copied per worker \(average\)")
        t.keys("c")
        t.wait_for(r"copied, whole tree")
        t.keys("Down")
        t.wait_for(r"> 2 writing")
        t.keys("Enter")
        text = t.wait_for(r"PROCESS")
        assert "-k 64 -K 200" in text.splitlines()[0], text
        t.keys("5")
        t.wait_for(r"> 2 writing")
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text, text


def test_view_one_session_has_a_compare_screen():
    path, _ = recorded()
    with view(path) as t:
        t.wait_for(r"sample \d+/\d+")
        t.keys("5")
        text = t.wait_for(r"1 session \(view FILE FILE\.\.\. compares\)")
        assert "> 1 forktree: " in text, text


def test_view_compare_bad_second_file():
    path, _ = recorded()
    r = run("view", path, os.path.join(TMP, "missing.db"), check=False)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.startswith("cowprof: ") and r.stderr.count("\n") == 1, r.stderr


def test_view_mouse():
    """A click on a legend line selects that session, on a tab switches to
    it, on a tree row selects its process; the wheel moves the cursor."""
    paths = two_recorded()
    with Tmux("%s view %s" % (COWPROF, " ".join(paths)), 120, 40) as t:
        text = t.wait_for(r"> 1 steady")
        legend = [i for i, l in enumerate(text.splitlines()) if l.startswith("  2 writing")]
        assert legend, text
        t.mouse(4, legend[0])
        t.wait_for(r"> 2 writing")
        tabs = text.splitlines()[3]
        t.mouse(tabs.index("1 Tree"), 3)
        text = t.wait_for(r"PROCESS")
        assert "2/2 writing" in text.splitlines()[0], text
        lines = text.splitlines()
        rows = [i for i, l in enumerate(lines) if re.match(r"\s*\d+ `- ", l)]
        assert len(rows) == 2, text
        pid = int(lines[rows[1]].split()[0])
        t.mouse(10, rows[1])
        t.wait_for(r"(?m)^pid %d worker" % pid)
        t.mouse(10, rows[1], 64)             # wheel up: the row above
        t.wait_for(r"(?m)^pid %s worker" % lines[rows[0]].split()[0])
        t.mouse(tabs.index("2 Timeline"), 3)
        t.wait_for(r"copied since fork")
        t.keys("q")
        assert "EXIT=0" in t.wait_for(r"EXIT=\d+")
