"""cowprof run with fault attribution on real trees: the pages each child
copied are attributed to the functions (native and Python) that wrote them,
and the counts agree with the copied figures of the same session."""
import json
import os
import subprocess
import tempfile

from treeutil import COWPROF, PYTHON, ROOT, Gunicorn, fault_proc, line_of, open_session
from treeutil import report_json
from treeutil import session_path as _session_path

TMP = tempfile.mkdtemp(prefix="cowprof-test-")
PYREADERS = os.path.join(ROOT, "samples", "pyreaders.py")


def session_path(name):
    return _session_path(TMP, name)


def cowprof_run(path, *cmd, interval="0.2"):
    p = subprocess.run([COWPROF, "run", "-i", interval, "-o", path, "--", *cmd],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (p.returncode, p.stderr)
    return p


def last_copied_kb(rep, pid):
    for p in rep["processes"]:
        if p["pid"] == pid:
            return p["last"]["copied_kb"]
    raise AssertionError("pid %d not in the report" % pid)


COWWRITERS = os.path.join(ROOT, "build", "cowwriters")


def test_c_writers_get_exactly_their_pages():
    path = session_path("cowwriters.db")
    cowprof_run(path, COWWRITERS, "2", "1", "300", interval="0.1")
    rep = report_json(path)
    children = [p["pid"] for p in rep["processes"] if p["role"] == "worker"]
    assert len(children) == 2, rep["processes"]
    for pid in children:
        fp = fault_proc(rep, pid)
        sites = {s["frame"]["function"]: s["pages"] for s in fp["native"]}
        assert sites.get("writer_alpha") == 300 and sites.get("writer_beta") == 700, sites
        assert fp["python"] == [] and fp["dropped"] == 0, fp
        for s in fp["native"][:2]:
            assert s["frame"]["module"] == COWWRITERS, s
    tree = {s["frame"]["function"]: s["pages"] for s in rep["faults"]["tree"]["native"]}
    assert tree["writer_alpha"] == 600 and tree["writer_beta"] == 1400, tree


def test_python_readers_are_named_with_their_lines():
    path = session_path("pyreaders.db")
    p = cowprof_run(path, PYTHON, PYREADERS, "--linger", "1.0")
    # the sample's JSON line, then cowprof's summary table
    out = json.loads(next(ln for ln in p.stdout.splitlines() if ln.startswith("{")))
    rep = report_json(path)
    expect = {out["alpha_pid"]: ("reader_alpha", line_of(PYREADERS, "reader_alpha's copying line"), 300_000),
              out["beta_pid"]: ("reader_beta", line_of(PYREADERS, "reader_beta's copying line"), 700_000)}
    for pid, (fn, line, nfloats) in expect.items():
        fp = fault_proc(rep, pid)
        assert fp["python_status"] == "", fp["python_status"]
        assert fp["dropped"] == 0, fp
        top = fp["python"][0]
        assert top["frame"]["function"] == fn, fp["python"][:3]
        assert top["frame"]["file"] == PYREADERS, top
        assert top["frame"]["line"] == line, (top, line)
        # pymalloc puts 24-byte floats in 32-byte blocks (16-byte aligned),
        # 126 to a 4 KiB pool after its 48-byte header: the part read, give
        # or take the pools at its edges
        pages = nfloats / 126
        assert 0.97 * pages <= top["pages"] <= 1.03 * pages, (top["pages"], pages)
        # every copied page has its fault: the counts agree within 5%
        copied_pages = last_copied_kb(rep, pid) / 4
        assert abs(fp["pages"] - copied_pages) <= 0.05 * copied_pages, (fp["pages"], copied_pages)
    # the parent forked them and copied nothing of its own
    assert all(p["pid"] in expect for p in rep["faults"]["processes"]), rep["faults"]["processes"]


def test_folded_output_has_the_python_stacks():
    path = session_path("pyreaders-folded.db")
    cowprof_run(path, PYTHON, PYREADERS, "--alpha", "50000", "--beta", "50000",
                "--linger", "0.5")
    p = subprocess.run([COWPROF, "report", "--format", "folded", path],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    lines = p.stdout.splitlines()
    assert lines, "no folded stacks"
    weights = {}
    for ln in lines:
        stack, _, n = ln.rpartition(" ")
        assert stack and int(n) > 0, ln
        frames = stack.split(";")
        py = [f for f in frames if ".py:" in f]
        # root first: the command, the Python frames, then native frames
        assert frames[1:1 + len(py)] == py, stack
        for fn, marker in (("reader_alpha", "reader_alpha's copying line"),
                           ("reader_beta", "reader_beta's copying line")):
            if py and py[-1] == "%s (pyreaders.py:%d)" % (fn, line_of(PYREADERS, marker)):
                weights[fn] = weights.get(fn, 0) + int(n)
    assert 380 <= weights.get("reader_alpha", 0) <= 420, weights   # 50000 / 126
    assert 380 <= weights.get("reader_beta", 0) <= 420, weights


def test_no_faults_records_none():
    path = session_path("nofaults.db")
    p = subprocess.run([COWPROF, "run", "--no-faults", "-i", "0.2", "-o", path, "--",
                        PYTHON, PYREADERS, "--alpha", "1000", "--beta", "1000",
                        "--linger", "0.3"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    c = open_session(path)
    assert c.execute("SELECT count(*) FROM faults").fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM fault_sources").fetchone()[0] == 0
    assert report_json(path)["faults"] is None


def test_record_refuses_no_faults():
    p = subprocess.run([COWPROF, "record", "--no-faults", "1"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "no-faults" in p.stderr, (p.returncode, p.stderr)


APP = os.path.join(ROOT, "samples", "gunicorn", "app.py")


def test_gunicorn_preload_touch_lines_copy_most():
    """gunicorn with preload_app under load: the request handler's lines
    that read the shared dict are the main copiers, in every worker."""
    path = session_path("gunicorn-faults.db")
    wrap = [COWPROF, "run", "-i", "0.5", "-o", path, "--"]
    with Gunicorn("conf_preload.py", workers=2, items=100_000, wrap=wrap) as g:
        for _ in range(20):
            g.get("/")
        for _ in range(4):
            g.get("/touch")
        workers = g.workers
    assert g.proc.returncode == 0, g.stderr
    rep = report_json(path)
    touch_for = line_of(APP, "for k, v in DATA.items():")
    touch_add = line_of(APP, "total += v[0]")
    top = rep["faults"]["tree"]["python"][0]["frame"]
    assert top["function"] == "touch" and top["file"] == APP, rep["faults"]["tree"]["python"][:3]
    served = 0
    for pid in workers:
        fp = fault_proc(rep, pid)
        assert fp["dropped"] == 0 and fp["python_status"] == "", fp
        touch = sum(s["pages"] for s in fp["python"]
                    if s["frame"]["function"] == "touch" and
                    s["frame"]["line"] in (touch_for, touch_add))
        if touch:
            # the worker that served /touch: of what it copied running
            # Python code, the handler's lines copied nearly all (the rest
            # of its pages it copies at exit, in Py_FinalizeEx, with no
            # Python frame)
            served += 1
            assert fp["python"][0]["frame"]["function"] == "touch", fp["python"][:3]
            in_python = sum(s["pages"] for s in fp["python"])
            assert touch >= 0.9 * in_python, (touch, in_python)
    assert served >= 1
