"""cowprof report and compare: every format of a real recording (a fork tree
with a worker killed, one exiting with 3 and both respawned) and of the
synthetic session of the golden files, each validated by a parser: JSON
parses, CSV has its header and one row per process per sample, HTML is
well-formed XML and self-contained, OpenMetrics passes a strict parser (and
promtool when Debian's prometheus package is installed); compare on two
sessions; bad files and usage errors."""
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import xml.dom.minidom
from html.parser import HTMLParser

from treeutil import COWPROF, PYTHON, ROOT, Forktree, run

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="cowprof-report-test-")
TEST_REPORT = os.path.join(ROOT, "build", "tests", "test_report")
FORMATS = ["text", "json", "csv", "html", "openmetrics", "folded"]
CSV_HEADER = ["time", "offset_s", "pid", "ppid", "role", "state", "rss_kb", "pss_kb",
              "uss_kb", "swap_kb", "anon_kb", "shmem_kb", "file_kb",
              "shared_with_parent_kb", "copied_kb", "new_kb", "shared_anywhere_kb", "cmd"]

_sessions = {}


def fresh(name):
    path = os.path.join(TMP, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return path


def synthetic_session():
    """The golden files' session (session_fixture.h), written by the unit
    test binary."""
    if "synthetic" not in _sessions:
        if not os.path.exists(TEST_REPORT):
            subprocess.run(["make", "-C", ROOT, "build/tests/test_report"], check=True,
                           capture_output=True, timeout=300)
        path = fresh("golden.db")
        subprocess.run([TEST_REPORT, "--write-session", path], check=True, timeout=60)
        _sessions["synthetic"] = path
    return _sessions["synthetic"]


def recorded_session():
    """A real recording of a pre-fork tree whose first worker is killed by
    SIGKILL and whose second exits with 3; the master respawns both."""
    if "recorded" not in _sessions:
        path = fresh("respawn.db")
        tree = subprocess.Popen([PYTHON, os.path.join(HERE, "trees", "respawn_tree.py")],
                                stdout=subprocess.PIPE, text=True)
        try:
            _, root, a, b = tree.stdout.readline().split()
            rec = subprocess.Popen([COWPROF, "record", "-i", "0.1", "-d", "2.5", "-o", path,
                                    root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
            time.sleep(1.2)
            os.kill(int(a), signal.SIGKILL)
            out, err = rec.communicate(timeout=60)
            assert rec.returncode == 0, err
        finally:
            os.kill(tree.pid, signal.SIGTERM)
            tree.wait(10)
        _sessions["recorded"] = (path, int(root), int(a), int(b))
    return _sessions["recorded"]


def report(path, fmt):
    return run("report", "--format", fmt, path)


def db_counts(path):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        procs = c.execute("SELECT COUNT(*) FROM processes").fetchone()[0]
        rows = c.execute("SELECT COUNT(*) FROM proc_samples ps JOIN samples s"
                         " ON s.id = ps.sample_id").fetchone()[0]
        samples = c.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    finally:
        c.close()
    return procs, rows, samples


# ---- validators ----

def check_json(path, text):
    d = json.loads(text)
    procs, _, samples = db_counts(path)
    assert len(d["processes"]) == procs, (len(d["processes"]), procs)
    assert len(d["tree"]) == samples
    for p in d["processes"]:
        assert p["role"] in ("master", "worker", "child"), p
        for key in ("copied_kb", "peak_rss_kb"):
            assert isinstance(p[key], int) and p[key] >= 0, (key, p)
        if p["first"] is not None:
            assert p["first"]["time"] <= p["last"]["time"]
            assert p["peak_rss_kb"] >= p["last"]["rss_kb"]
    for t in d["tree"]:
        assert t["saving_kb"] == max(0, t["rss_kb"] - t["unique_kb"]), t
    return d


def check_csv(path, text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_HEADER, rows[0]
    _, nrows, _ = db_counts(path)
    assert len(rows) - 1 == nrows, (len(rows) - 1, nrows)
    for r in rows[1:]:
        assert len(r) == len(CSV_HEADER), r
        float(r[0])
        assert int(r[2]) > 0 and r[4] in ("master", "worker", "child"), r
        assert all(int(v) >= 0 for v in r[6:17]), r
    return rows


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def check_html(text):
    doc = xml.dom.minidom.parseString(text.encode("utf-8"))
    assert doc.documentElement.tagName == "html"
    p = _Html()
    p.feed(text)
    p.close()
    names = {t for t, _ in p.tags}
    assert "svg" in names and "table" in names, names
    for bad in ("script", "link", "img", "iframe", "object", "embed"):
        assert bad not in names, bad
    for tag, attrs in p.tags:
        for k, v in attrs.items():
            assert k not in ("src", "href") and not k.startswith("on"), (tag, k)
            if k != "xmlns":
                assert "http:" not in (v or "") and "https:" not in (v or ""), (tag, k, v)
    assert "@import" not in text and "url(" not in text
    return doc


# ---- a strict OpenMetrics text parser (openmetrics.io, the text format) ----

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("gauge", "counter", "stateset", "info", "histogram", "gaugehistogram",
         "summary", "unknown")


def _label_value(line, i):
    """The escaped label value starting after the opening quote at i."""
    out = []
    while True:
        assert i < len(line), "unterminated label value: %r" % line
        c = line[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            nxt = line[i + 1:i + 2]
            assert nxt in ('"', "\\", "n"), "bad escape \\%s in %r" % (nxt, line)
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        assert c != "\n"
        out.append(c)
        i += 1


def _labels(line, i):
    labels = {}
    assert line[i] == "{"
    i += 1
    while line[i] != "}":
        m = LABEL.match(line, i)
        assert m, "bad label name in %r" % line
        name = m.group(0)
        i = m.end()
        assert line[i:i + 2] == '="', "label %s: no =\" in %r" % (name, line)
        value, i = _label_value(line, i + 2)
        assert name not in labels, "label %s twice in %r" % (name, line)
        labels[name] = value
        if line[i] == ",":
            i += 1
            assert line[i] != "}", "trailing comma in %r" % line
        else:
            assert line[i] == "}", "bad label list in %r" % line
    return labels, i + 1


def _number(s):
    assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?Inf|NaN", s), s
    return float(s)


def parse_openmetrics(text):
    """Families: {name: {"type", "unit", "help", "samples": [(labels, value)]}}.
    Raises AssertionError on anything the format does not allow."""
    assert text.endswith("# EOF\n"), "no final # EOF"
    lines = text[:-len("\n")].split("\n")
    assert lines.pop() == "# EOF"
    families, current, seen = {}, None, set()
    for line in lines:
        assert line and "# EOF" != line, "empty line or early # EOF"
        if line.startswith("#"):
            m = re.fullmatch(r"# (TYPE|UNIT|HELP) (\S+) ?(.*)", line)
            assert m, "bad comment line %r" % line
            kind, name, rest = m.groups()
            assert NAME.fullmatch(name), name
            if name != current:
                assert name not in families, "family %s not contiguous" % name
                families[name] = {"samples": []}
                current = name
            fam = families[name]
            assert not fam["samples"], "metadata after samples: %r" % line
            assert kind.lower() not in fam, "%s twice for %s" % (kind, name)
            if kind == "TYPE":
                assert rest in TYPES, rest
            if kind == "UNIT":
                assert rest and name.endswith("_" + rest), "unit %s of %s" % (rest, name)
            if kind == "HELP":
                _label_value(rest + '"', 0)  # same escapes as label values
            fam[kind.lower()] = rest
            continue
        m = NAME.match(line)
        assert m, "bad sample line %r" % line
        name, i = m.group(0), m.end()
        labels = {}
        if line[i:i + 1] == "{":
            labels, i = _labels(line, i)
        assert line[i:i + 1] == " ", "no space before the value: %r" % line
        parts = line[i + 1:].split(" ")
        assert 1 <= len(parts) <= 2, line
        value = _number(parts[0])
        if len(parts) == 2:
            _number(parts[1])
        assert name == current, "sample %s outside its family %s" % (name, current)
        fam = families[current]
        assert fam.get("type") == "gauge", "%s: only gauges here" % name
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, "duplicate series %r" % (key,)
        seen.add(key)
        fam["samples"].append((labels, value))
    for name, fam in families.items():
        assert "type" in fam and "help" in fam, name
        if name.endswith("_bytes"):
            assert fam.get("unit") == "bytes", name
    return families


def check_openmetrics(text):
    fams = parse_openmetrics(text)
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    return fams


def test_openmetrics_parser_rejects_bad_text():
    good = '# TYPE a_bytes gauge\n# UNIT a_bytes bytes\n# HELP a_bytes x\na_bytes{b="c"} 1\n# EOF\n'
    parse_openmetrics(good)
    for bad in (good.replace("# EOF\n", ""),
                good.replace('"c"', '"c"d"'),
                good.replace('"c"', '"c\\t"'),
                good.replace("# UNIT a_bytes bytes\n", "# UNIT a_bytes seconds\n"),
                good.replace(" 1\n", " 1\na_bytes{b=\"c\"} 2\n"),
                good.replace("# HELP a_bytes x\n", ""),
                good + "x 1\n"):
        try:
            parse_openmetrics(bad)
        except AssertionError:
            continue
        raise AssertionError("accepted %r" % bad)


# ---- tests ----

def check_every_format(path):
    out = {}
    for fmt in FORMATS:
        r = report(path, fmt)
        out[fmt] = r
    assert "processes" in out["text"].stdout and "events" in out["text"].stdout
    d = check_json(path, out["json"].stdout)
    check_csv(path, out["csv"].stdout)
    check_html(out["html"].stdout)
    fams = check_openmetrics(out["openmetrics"].stdout)
    folded = out["folded"]
    if d["faults"] is None:
        # no fault attribution: empty (valid folded input) and one note
        assert folded.stdout == "", folded.stdout
        lines = folded.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cowprof: ") and \
            "no fault attribution" in lines[0], folded.stderr
    else:
        check_folded(folded.stdout, d["faults"]["pages"])
    return d, fams


def check_folded(text, pages):
    """Lines of "frame;frame;... COUNT", counts adding up to the pages."""
    total = 0
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        assert stack and n.isdigit() and int(n) > 0, line
        assert all(stack.split(";")), line
        total += int(n)
    assert total == pages, (total, pages)


def test_recorded_session_in_every_format():
    path, root, a, b = recorded_session()
    d, fams = check_every_format(path)
    by_pid = {p["pid"]: p for p in d["processes"]}
    assert by_pid[root]["role"] == "master"
    assert by_pid[a]["exit"] == "killed by SIGKILL", by_pid[a]
    assert by_pid[a]["exit_signal"] == 9
    assert by_pid[b]["exit"] == "exit 3" and by_pid[b]["exit_code"] == 3, by_pid[b]
    respawns = {p["respawn_of"] for p in d["processes"] if p["respawn_of"]}
    assert respawns == {a, b}, [(p["pid"], p["respawn_of"]) for p in d["processes"]]
    text = report(path, "text").stdout
    assert "killed by SIGKILL" in text and "exit 3" in text
    assert "respawn of %d" % a in text and "respawn of %d" % b in text
    # the gauges are the last sample's figures, in bytes
    live = [p for p in d["processes"] if p["last"] and
            abs(p["last"]["time"] - d["tree"][-1]["time"]) < 1e-6]
    rss = {int(lb["pid"]): v for lb, v in fams["cowprof_rss_bytes"]["samples"]}
    assert rss == {p["pid"]: p["last"]["rss_kb"] * 1024 for p in live}, (rss, live)
    for lb, _ in fams["cowprof_rss_bytes"]["samples"]:
        assert lb["role"] in ("master", "worker", "child") and lb["ppid"], lb
    tree = fams["cowprof_tree_unique_bytes"]["samples"][0][1]
    assert tree == d["tree"][-1]["unique_kb"] * 1024


def test_synthetic_session_in_every_format():
    path = synthetic_session()
    d, fams = check_every_format(path)
    assert [p["pid"] for p in d["processes"]] == [1000, 1001, 1005, 1002, 1003, 1004]
    assert d["processes"][1]["half_shared_s"] == 9.5
    cmds = {lb["command"] for lb, _ in fams["cowprof_rss_bytes"]["samples"]}
    assert 'python3 server.py --workers 3 --name "a<b>&c"' in cmds, cmds
    html = report(path, "html").stdout
    assert html.count("<svg") == 7, html.count("<svg")  # the tree and 6 processes


def test_compare_two_sessions():
    real, _, _, _ = recorded_session()
    synthetic = synthetic_session()
    r = run("compare", synthetic, real)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["golden", "respawn"], lines[0]
    rows = {l[:31].strip(): l[31:].split() for l in lines[1:]}
    assert rows["workers"][0] == "3", rows
    assert rows["real memory saved vs the first"][0] == "(base)"
    j = json.loads(run("compare", "--json", synthetic, real).stdout)
    assert [s["name"] for s in j["sessions"]] == ["golden", "respawn"]
    assert j["sessions"][0]["saving_kb"] == 0
    s = j["sessions"][1]
    assert s["saving_kb"] == j["sessions"][0]["tree_unique_kb_end"] - s["tree_unique_kb_end"]
    assert s["workers"] == 2, s
    assert s["shared_pct_60s"] is None  # a 2.5 s recording


def expect_error(args, status, words):
    r = run(*args, check=False)
    assert r.returncode == status, (args, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cowprof: "), r.stderr
    for w in words:
        assert w in lines[0], (args, lines[0])
    assert r.stdout == "", r.stdout


def test_bad_files_and_usage():
    synthetic = synthetic_session()
    missing = os.path.join(TMP, "missing.db")
    junk = fresh("junk.db")
    with open(junk, "w") as f:
        f.write("not a session\n" * 100)
    truncated = fresh("truncated.db")
    with open(synthetic, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 3])
    for fmt in FORMATS:
        expect_error(["report", "--format", fmt, missing], 1, [missing])
        expect_error(["report", "--format", fmt, junk], 1, ["not a cowprof session"])
        expect_error(["report", "--format", fmt, truncated], 1, [truncated])
    expect_error(["compare", synthetic, junk], 1, ["not a cowprof session"])
    expect_error(["report"], 2, ["missing FILE"])
    expect_error(["report", synthetic, synthetic], 2, ["too many arguments"])
    expect_error(["report", "--format", "xml", synthetic], 2, ["unknown format 'xml'"])
    expect_error(["report", "--format"], 2, ["needs a value"])
    expect_error(["report", "--bogus", synthetic], 2, ["unknown option '--bogus'"])
    expect_error(["compare", synthetic], 2, ["at least two sessions"])
    expect_error(["compare", "--csv", synthetic, synthetic], 2, ["unknown option"])
    for cmd in ("report", "compare"):
        assert run(cmd, "--help").stdout.startswith("usage: cowprof %s" % cmd)
        assert run(cmd, "--version").stdout.startswith("cowprof ")


if __name__ == "__main__":
    import sys
    import traceback
    failed = 0
    for name in sorted(n for n in dir() if n.startswith("test_")):
        try:
            globals()[name]()
            print("ok   %s" % name)
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc()
    sys.exit(1 if failed else 0)
