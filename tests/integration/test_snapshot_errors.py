"""Bad input and awkward processes: a one-line error and the right exit
status, or a clean result; never a crash."""
import json
import os
import signal
import subprocess
import time

from treeutil import COWPROF, PYTHON, Forktree, run


def expect_error(args, status, words):
    r = run(*args, check=False)
    assert r.returncode == status, (args, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines and lines[0].startswith("cowprof: "), r.stderr
    for w in words:
        assert w in lines[0], (args, lines[0])
    assert r.stdout == "", r.stdout


def test_usage_errors_exit_2():
    expect_error(["snapshot"], 2, ["missing PID"])
    expect_error(["snapshot", "0"], 2, ["'0' is not a valid pid"])
    expect_error(["snapshot", "-5"], 2, [])
    expect_error(["snapshot", "abc"], 2, ["'abc' is not a valid pid"])
    expect_error(["snapshot", "12x"], 2, ["not a valid pid"])
    expect_error(["snapshot", "1", "2"], 2, ["too many arguments"])
    expect_error(["frobnicate"], 2, ["unknown command 'frobnicate'"])
    expect_error(["snapshot", "--bogus", "1"], 2, ["unknown option '--bogus'"])


def test_missing_pid_is_a_runtime_error():
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    expect_error(["snapshot", str(pid_max + 1)], 1, ["pid %d: no such process" % (pid_max + 1)])


def test_kernel_thread_is_refused():
    expect_error(["snapshot", "2"], 1, ["pid 2: is a kernel thread"])


def test_help_and_version():
    for args in (["--help"], ["snapshot", "--help"]):
        r = run(*args)
        assert "usage: cowprof" in r.stdout
    for args in (["--version"], ["snapshot", "--version"]):
        assert run(*args).stdout.startswith("cowprof ")


def test_each_command_has_one_synopsis_in_both_helps():
    """cowprof --help lists each command's synopsis as its own --help does
    (record's and top's once lacked --fault-period auto in the list)."""
    lines = run("--help").stdout.splitlines()
    i = lines.index("commands:") + 1
    listed = {}
    while i < len(lines) and lines[i].startswith("  "):
        name, rest = lines[i].split(None, 1)
        syn = [rest]
        i += 1
        while i + 1 < len(lines) and lines[i + 1].startswith("            "):
            syn.append(lines[i].strip())  # a continuation, then the summary
            i += 1
        listed[name] = " ".join(syn)
        i += 1  # the summary line
    assert sorted(listed) == sorted(["snapshot", "record", "run", "top", "view",
                                     "report", "compare"]), listed
    assert "--fault-period N|auto" in listed["record"], listed["record"]
    for name, syn in listed.items():
        help_lines = run(name, "--help").stdout.split("\n\n")[0].splitlines()
        head = "usage: cowprof %s " % name
        assert help_lines[0].startswith(head), help_lines
        own = " ".join([help_lines[0][len(head):]] + [l.strip() for l in help_lines[1:]])
        assert own == syn, (name, own, syn)


def test_unprivileged_user_gets_a_permission_message():
    with Forktree("-a", "4", "-n", "1", "-w", "1") as ft:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            COWPROF, "snapshot", str(ft.pid)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (r.returncode, r.stderr)
        line = r.stderr.strip()
        assert line.startswith("cowprof: ") and "\n" not in line, line
        assert "root" in line and ("permission denied" in line or "hidden" in line
                                   or "kpagecount" in line), line


CHURN = r"""
import os, sys, time
print(os.getpid(), flush=True)
end = time.time() + 30
while time.time() < end:
    pids = []
    for i in range(4):
        pid = os.fork()
        if pid == 0:
            b = bytearray(256 * 1024)
            time.sleep(0.001 * i)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
"""


def test_processes_exiting_mid_snapshot_are_dropped_silently():
    p = subprocess.Popen([PYTHON, "-c", CHURN], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline())
        for _ in range(60):
            r = run("snapshot", "--json", str(pid), check=False)
            assert r.returncode == 0, r.stderr
            snap = json.loads(r.stdout)
            assert snap["processes"][0]["pid"] == pid
            for q in snap["processes"][1:]:
                assert q["ppid"] == pid
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)


def test_root_that_exits_is_no_such_process():
    p = subprocess.Popen(["sleep", "0.2"])
    pid = p.pid
    p.wait()
    time.sleep(0.05)
    expect_error(["snapshot", str(pid)], 1, ["pid %d: no such process" % pid])


def test_unprivileged_record_says_one_line():
    """The real error alone: the notice of what signal tracing cannot see
    came first, before 'needs root'. Nothing is left behind."""
    out = "/tmp/cowprof-unprivileged-%d.db" % os.getpid()
    with Forktree("-a", "4", "-n", "1", "-w", "1") as ft:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            COWPROF, "record", "-d", "1", "-o", out, str(ft.pid)],
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = r.stderr.strip()
    assert line.startswith("cowprof: ") and "\n" not in line, line
    assert "root" in line, line
    assert not os.path.exists(out)
