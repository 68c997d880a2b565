"""libcowprof_preload.so on real programs: each forked child's first writes
to inherited pages land in its ring with the right call sites, and nothing
the programs compute or how they die changes with the library."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from treeutil import PYTHON, ROOT

BUILD = os.path.join(ROOT, "build")
LIB = os.path.join(BUILD, "libcowprof_preload.so")
DUMP = os.path.join(BUILD, "faultring_dump")
COWWRITERS = os.path.join(BUILD, "cowwriters")
CASES = os.path.join(BUILD, "preload_cases")


def run(argv, spool=None, timeout=60, env_extra=None, **kw):
    """Run argv (with the library when spool is given); returns the
    CompletedProcess (text output)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("COWPROF_SPOOL", None)
    if spool:
        env["LD_PRELOAD"] = LIB
        env["COWPROF_SPOOL"] = spool
    env.update(env_extra or {})
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=env, **kw)


def rings(spool):
    """pid -> (header, events, trailer) of every ring in spool."""
    out = {}
    for name in sorted(os.listdir(spool)):
        m = re.fullmatch(r"faults\.(\d+)", name)
        assert m, name   # no temporary file left behind
        r = subprocess.run([DUMP, os.path.join(spool, name)], capture_output=True,
                           text=True, timeout=30, check=True)
        lines = [json.loads(ln) for ln in r.stdout.splitlines()]
        out[int(m.group(1))] = (lines[0], lines[1:-1], lines[-1])
    return out


def symbol_ranges(binary, names, runtime_addr):
    """{name: (lo, hi)} of the functions in binary, relocated by the bias
    between name's runtime address and its nm value."""
    r = subprocess.run(["nm", "-S", binary], capture_output=True, text=True, check=True)
    syms = {}
    for ln in r.stdout.splitlines():
        f = ln.split()
        if len(f) == 4 and f[3] in names:
            syms[f[3]] = (int(f[0], 16), int(f[1], 16))
    first = names[0]
    bias = runtime_addr - syms[first][0]
    return {n: (v + bias, v + bias + size) for n, (v, size) in syms.items()}


def spool_dir():
    return tempfile.mkdtemp(prefix="cowprof-preload-")


def cowwriters_case(threads):
    spool = spool_dir()
    try:
        plain = run([COWWRITERS, "2", str(threads)])
        r = run([COWWRITERS, "2", str(threads)], spool=spool)
        assert r.returncode == 0 and plain.returncode == 0, r.stderr
        assert r.stdout == plain.stdout, (r.stdout, plain.stdout)
        m = re.search(r"writer_alpha=(0x[0-9a-f]+) writer_beta=(0x[0-9a-f]+)", r.stderr)
        fns = symbol_ranges(COWWRITERS, ["writer_alpha", "writer_beta"], int(m.group(1), 16))
        assert fns["writer_beta"][0] == int(m.group(2), 16)
        rs = rings(spool)
        assert len(rs) == 2, rs.keys()   # the two children; the parent has none
        for pid, (head, events, tail) in rs.items():
            assert tail["dropped"] == 0 and tail["events"] == len(events)
            count = {"writer_alpha": 0, "writer_beta": 0}
            tids = set()
            for ev in events:
                assert ev["native"], ev
                for name, (lo, hi) in fns.items():
                    if lo <= ev["native"][0] < hi:
                        count[name] += 1
                        tids.add(ev["tid"])
            assert count == {"writer_alpha": 300, "writer_beta": 700}, (pid, count)
            assert len(tids) == (1 if threads == 1 else 2 * threads), tids
            assert head["armed_pages"] >= 1000
    finally:
        shutil.rmtree(spool)


def test_cowwriters_attributes_each_first_write():
    cowwriters_case(1)


def test_cowwriters_threads_writing_in_parallel():
    cowwriters_case(4)


def test_no_spool_no_ring_and_same_output():
    spool = spool_dir()
    try:
        env = dict(os.environ, LD_PRELOAD=LIB)
        env.pop("COWPROF_SPOOL", None)
        r = subprocess.run([COWWRITERS, "1"], capture_output=True, text=True,
                           timeout=60, env=env)
        assert r.returncode == 0
        assert r.stdout == run([COWWRITERS, "1"]).stdout
        assert os.listdir(spool) == []
    finally:
        shutil.rmtree(spool)


def same_with_and_without(argv, expect_rc=0):
    """Run argv plain and under the library: same stdout, same status.
    Returns (CompletedProcess with the library, rings)."""
    spool = spool_dir()
    try:
        plain = run(argv)
        r = run(argv, spool=spool)
        assert plain.returncode == expect_rc, (plain.returncode, plain.stderr)
        assert r.returncode == expect_rc, (r.returncode, r.stderr)
        assert r.stdout == plain.stdout, (r.stdout, plain.stdout)
        return r, rings(spool)
    finally:
        shutil.rmtree(spool)


def test_program_with_its_own_sigsegv_and_sigbus_handlers():
    r, rs = same_with_and_without([CASES, "segv-recover"])
    assert "caught signal 11" in r.stdout and "caught signal 7" in r.stdout
    assert "SIGBUS handler kept 1" in r.stdout
    (_, events, tail), = rs.values()
    assert tail["events"] == len(events) >= 32


def test_real_crash_still_dies_by_sigsegv():
    r, rs = same_with_and_without([CASES, "crash"], expect_rc=-signal.SIGSEGV)
    assert "child: signal 11" in r.stdout
    (_, events, _), = rs.values()
    assert len(events) >= 8


def test_real_sigbus_still_dies_by_sigbus():
    r, rs = same_with_and_without([CASES, "crash-bus"], expect_rc=-signal.SIGBUS)
    assert "child: signal 7" in r.stdout


def test_exec_after_fork():
    """The child writes 10 pages, then execs cowwriters, whose own children
    get rings of their own."""
    r, rs = same_with_and_without([CASES, "exec", COWWRITERS, "1"])
    assert "child: exit 0" in r.stdout
    assert len(rs) == 2, rs.keys()
    counts = sorted(len(ev) for _, ev, _ in rs.values())
    assert 10 <= counts[0] < 100 and counts[1] >= 1000, counts


def test_syscalls_writing_into_inherited_buffers():
    """read, pread, readv, preadv, recv and fread into pages no user code
    wrote since the fork: the kernel's writes must not fail with EFAULT."""
    r, rs = same_with_and_without([CASES, "syscalls"])
    (_, events, tail), = rs.values()
    assert tail["kernel_writes"] >= 20, tail


def test_thp_mremap_munmap_and_new_mappings():
    r, rs = same_with_and_without([CASES, "vmas"])
    addrs = dict(re.findall(r"(\w+)=(0x[0-9a-f]+)", r.stderr))
    thp, moved = int(addrs["thp"], 16), int(addrs["moved"], 16)
    gone = int(addrs["gone"], 16)
    thp_kb = int(re.search(r"AnonHugePages:\s+(\d+) kB", r.stderr).group(1))
    assert thp_kb >= 2048, r.stderr   # the region really is in huge pages
    (_, events, _), = rs.values()
    in_thp = [e for e in events if thp <= e["addr"] < thp + (4 << 20)]
    assert len(in_thp) == 64     # one per 4 KiB page, huge page or not
    assert not [e for e in events if moved <= e["addr"] < moved + 16 * 4096]
    assert not [e for e in events if gone <= e["addr"] < gone + 16 * 4096]


def test_fork_from_a_thread():
    r, rs = same_with_and_without([CASES, "fork-thread"])
    (_, events, _), = rs.values()
    assert len(events) >= 100


PY_FORK = r"""
import os, hashlib
data = [{"k": i, "v": str(i) * 3} for i in range(100000)]
def work(xs):
    return sum(d["k"] for d in xs if d["v"].endswith("7"))
for c in range(2):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, str(work(data[c::2])).encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 100)
        if not b:
            break
        out += b
    os.waitpid(pid, 0)
    print("child", c, out.decode())
with open("/etc/services", "rb") as f:
    print(hashlib.sha1(f.read()).hexdigest())
"""


def test_python_with_fork_computes_the_same():
    r, rs = same_with_and_without([PYTHON, "-c", PY_FORK])
    assert len(rs) == 2
    for _, events, tail in rs.values():
        assert len(events) > 1000 and tail["dropped"] == 0


PY_WRITERS = r"""
import os, sys
data_a = [[i, i + 1] for i in range(50000)]
data_b = [[i, i + 1] for i in range(100000)]

def writer_alpha(xs):
    n = 0
    for x in xs:
        n += x[0]
    return n

def writer_beta(xs):
    n = 0
    for x in xs:
        n += x[1]
    return n

def child():
    return writer_alpha(data_a) + writer_beta(data_b)

sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("child", child())
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_python_frames_name_the_functions_that_write():
    """A /usr/bin/python3 child only reads two lists it inherited; the
    reference-count writes copy their pages, and the events' innermost
    Python frames are the two readers, in proportion to the lists' sizes,
    at the lines of their loops, called from child()."""
    script = os.path.join(tempfile.mkdtemp(prefix="cowprof-py-"), "writers.py")
    with open(script, "w") as f:
        f.write(PY_WRITERS.lstrip("\n"))
    try:
        r, rs = same_with_and_without([PYTHON, script])
    finally:
        shutil.rmtree(os.path.dirname(script))
    assert r.stdout == "child 6250025000\n", r.stdout
    (head, events, tail), = rs.values()
    assert head["python_status"] == "", head
    assert tail["dropped"] == 0
    by_fn = {}
    for ev in events:
        if not ev["py"]:
            continue
        top = ev["py"][0]
        if top["name"] in ("writer_alpha", "writer_beta"):
            assert top["file"] == script, top
            assert top["line"] in ((7, 8) if top["name"] == "writer_alpha" else (13, 14)), top
            assert [f["name"] for f in ev["py"][1:3]] == ["child", "<module>"], ev["py"]
            by_fn[top["name"]] = by_fn.get(top["name"], 0) + 1
    alpha, beta = by_fn.get("writer_alpha", 0), by_fn.get("writer_beta", 0)
    # 50,000 and 100,000 two-element lists: ~56 bytes + 72 bytes each, so
    # about 1,550 and 3,100 pages of objects
    assert 1200 <= alpha <= 2000 and 2400 <= beta <= 4000, by_fn
    assert 1.7 <= beta / alpha <= 2.3, by_fn


def test_blocked_signals_and_alternate_signal_stack():
    """The child writes with every signal blocked, from a SIGUSR1 handler
    whose mask is full, and from a thread born with every signal blocked (a
    blocked synchronous SIGBUS would kill it); then it crashes into a SIGSEGV
    handler that runs on an alternate stack malloc'd before the fork (a
    protected signal stack would kill it instead)."""
    r, rs = same_with_and_without([CASES, "blocked"])
    assert "handler on the alternate stack ran" in r.stdout and "exit 7" in r.stdout
    (_, events, _), = rs.values()
    assert len(events) >= 30


def test_program_data_is_armed_with_mprotect():
    """The executable's .data is a private file mapping, which userfaultfd
    cannot register: it is armed with mprotect. The child's 32 first writes
    there are 32 events; the part whose protection the child then changes
    itself is left alone (no crash, same output)."""
    r, rs = same_with_and_without([CASES, "data"])
    area = int(re.search(r"data_area=(0x[0-9a-f]+)", r.stderr).group(1), 16)
    (_, events, tail), = rs.values()
    in_first = [e for e in events if area <= e["addr"] < area + 32 * 4096]
    assert len(in_first) == 32, len(in_first)
    syms = symbol_ranges(CASES, ["data_area", "data_child"], area)
    lo, hi = syms["data_child"]
    assert all(lo <= e["native"][0] < hi for e in in_first)
    assert tail["self_faults"] == 0


def test_grandchild_of_an_armed_child():
    """The child (armed) forks: the grandchild gets a ring of its own with
    its 16 + 16 first writes (the child's mprotect-armed .data pages are
    given back their protection around the fork, so the grandchild does not
    inherit pages only the child's handler knew), and the child, still
    armed after the fork, records its writes to .data made after it."""
    r, rs = same_with_and_without([CASES, "grandchild"])
    m = re.search(r"region=(0x[0-9a-f]+) data_area=(0x[0-9a-f]+)", r.stderr)
    region, area = int(m.group(1), 16), int(m.group(2), 16)
    assert len(rs) == 2

    def count(events, base, first, last):
        return len([e for e in events
                    if base + first * 4096 <= e["addr"] < base + last * 4096])

    child, grandchild = [rs[pid][1] for pid in sorted(rs)]
    assert count(child, region, 0, 8) == 8 and count(child, area, 0, 8) == 8
    assert count(child, area, 40, 48) == 8
    assert count(child, region, 16, 32) == 0
    assert count(grandchild, region, 16, 32) == 16
    assert count(grandchild, area, 16, 32) == 16


PY_FAULTHANDLER = r"""
import os, sys, faulthandler, ctypes
faulthandler.enable()
data = [list(range(10)) for _ in range(10000)]
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print(sum(len(x) for x in data)); sys.stdout.flush()
    ctypes.string_at(0)
_, st = os.waitpid(pid, 0)
print("child status", st)
"""


def test_python_crash_still_reaches_faulthandler():
    """A forked Python child with faulthandler enabled (its SIGSEGV handler
    on an alternate stack) that really crashes: faulthandler still prints
    the Python traceback and the child dies by SIGSEGV."""
    r, rs = same_with_and_without([PYTHON, "-c", PY_FAULTHANDLER])
    assert r.stdout == "100000\nchild status %d\n" % signal.SIGSEGV, r.stdout
    assert "Fatal Python error: Segmentation fault" in r.stderr
    assert 'line 9 in <module>' in r.stderr, r.stderr


def pyenv_python(version_prefix):
    """A pyenv interpreter of that version here, or None."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s*/bin/python3"
                                                % version_prefix)))
    return found[0] if found else None


def writers_under(python):
    script = os.path.join(tempfile.mkdtemp(prefix="cowprof-py-"), "writers.py")
    with open(script, "w") as f:
        f.write(PY_WRITERS.lstrip("\n"))
    try:
        r, rs = same_with_and_without([python, script])
    finally:
        shutil.rmtree(os.path.dirname(script))
    (head, events, _), = rs.values()
    tops = [e["py"][0]["name"] for e in events if e["py"]]
    return head, events, tops


def test_python_frames_in_another_311_build():
    """A pyenv 3.11 (libpython3.11.so, another build than Debian's): the
    same functions named."""
    exe = pyenv_python("3.11")
    if not exe:
        print("     skipped: no pyenv 3.11 here")
        return
    head, events, tops = writers_under(exe)
    assert head["python_status"] == "", head
    assert tops.count("writer_alpha") >= 1200 and tops.count("writer_beta") >= 2400


def test_other_python_versions_record_without_python_frames():
    """A 3.12 child is recorded, native stacks only, and its ring says why."""
    exe = pyenv_python("3.12")
    if not exe:
        print("     skipped: no pyenv 3.12 here")
        return
    head, events, tops = writers_under(exe)
    assert "not 3.11" in head["python_status"], head
    assert not tops and len(events) > 4000 and all(e["native"] for e in events)
