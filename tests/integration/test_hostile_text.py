"""Text from the target never reaches the operator's terminal unescaped:
command lines with ESC, OSC, CR, LF and C1 controls (raw or UTF-8) in
snapshot's table, in record's and run's end-of-run table, and in report."""
import os
import subprocess
import tempfile
import time

from treeutil import COWPROF, PYTHON, open_session

TMP = tempfile.mkdtemp(prefix="cowprof-test-")
# what a hostile process puts in its argv: retitle (OSC), clear (CSI 2J via
# ESC, via UTF-8 U+009B and via the raw byte 0x9b), a carriage return
HOSTILE = b"x\x1b]0;pwned\x07\x1b[2J\xc2\x9b2J\x9b2J\rover\nline"
CONTROLS = [b"\x1b", b"\x07", b"\r", b"\xc2\x9b", b"\x9b", b"\xc2\x85"]


def start_hostile():
    """A parent and a child, both with HOSTILE in their command line."""
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            "    time.sleep(60); os._exit(0)\n"
            "time.sleep(60)\n")
    return subprocess.Popen([PYTHON.encode(), b"-c", code.encode(), HOSTILE])


def assert_clean(data, where):
    for c in CONTROLS:
        assert c not in data, (where, c, data[:400])


def test_snapshot_table_escapes_command_lines():
    p = start_hostile()
    try:
        time.sleep(0.5)
        r = subprocess.run([COWPROF, "snapshot", "--regions", str(p.pid)],
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert b"x?]0;pwned??[2J?2J?2J?over?line" in r.stdout, r.stdout[:600]
        assert_clean(r.stdout, "snapshot")
    finally:
        p.kill()
        p.wait()


def test_end_of_run_table_and_reports_escape_command_lines():
    path = os.path.join(TMP, "hostile.db")
    # the root's command line holds HOSTILE early enough for the table's
    # 60 characters
    r = subprocess.run([COWPROF.encode(), b"run", b"--no-faults", b"-i", b"0.1", b"-o",
                        path.encode(), b"--", b"sh", b"-c", b"sleep .6 & wait", HOSTILE],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"", r.stdout  # run's stdout is its command's alone
    assert b"x?]0;pwned" in r.stderr, r.stderr
    assert_clean(r.stderr, "run's table")
    for fmt in ("text", "json", "html", "openmetrics", "folded"):
        rep = subprocess.run([COWPROF, "report", "--format", fmt, path],
                             capture_output=True, timeout=60)
        assert rep.returncode == 0, (fmt, rep.stderr)
        assert_clean(rep.stdout, fmt)
    cmp = subprocess.run([COWPROF, "compare", path, path], capture_output=True, timeout=60)
    assert cmp.returncode == 0, cmp.stderr
    assert_clean(cmp.stdout, "compare")


# A Python function whose file name drives a terminal, copying pages in a
# forked child: its call site and folded stack carry the name.
HOSTILE_PY = r'''
import os
src = "def touch(d):\n    return sum(len(x) for x in d)\n"
ns = {}
exec(compile(src, "\x1b]0;pwned\x07\u009b2J\u0085.py", "exec"), ns)
data = [str(i) * 3 for i in range(200000)]
pid = os.fork()
if pid == 0:
    ns["touch"](data)
    os._exit(0)
os.waitpid(pid, 0)
'''


def test_call_sites_and_folded_stacks_escape_python_file_names():
    path = os.path.join(TMP, "hostile-py.db")
    r = subprocess.run([COWPROF, "run", "-o", path, "--", PYTHON, "-c", HOSTILE_PY],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = subprocess.run([COWPROF, "report", path], capture_output=True, timeout=60)
    assert text.returncode == 0, text.stderr
    # ';' is ':' in call sites, as in the folded stacks they share
    assert b"touch (?]0:pwned??2J?.py:2)" in text.stdout, text.stdout[-3000:]
    folded = subprocess.run([COWPROF, "report", "--format", "folded", path],
                            capture_output=True, timeout=60)
    assert folded.returncode == 0, folded.stderr
    assert b"?]0:pwned??2J?.py" in folded.stdout, folded.stdout[:2000]
    for where, data in (("text", text.stdout), ("folded", folded.stdout)):
        assert_clean(data, where)
