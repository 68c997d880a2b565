"""The samples (samples/gunicorn, samples/mp) run for real, briefly, and
cowprof shows what each one is about: the load script's bounds, what
gc.disable() does and does not stop, fork vs spawn sharing, a pool child
killed by SIGKILL, pools forked in request handlers, and the Manager that
a killed gunicorn worker takes down with it."""
import importlib.util
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

from treeutil import COWPROF, PYTHON, ROOT, Gunicorn, open_session, snapshot, wait_gone
from treeutil import session_path as _session_path

GUNICORN_DIR = os.path.join(ROOT, "samples", "gunicorn")
MP_DIR = os.path.join(ROOT, "samples", "mp")
LOAD = os.path.join(GUNICORN_DIR, "load.py")
TMP = tempfile.mkdtemp(prefix="cowprof-samples-")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def session_path(name):
    return _session_path(TMP, name)


db = open_session






def result_of(stdout, tag="RESULT "):
    lines = [ln for ln in stdout.splitlines() if ln.startswith(tag)]
    assert len(lines) == 1, stdout[-3000:]
    return json.loads(lines[0][len(tag):])


def run_recorded(name, script, *args, interval="0.1", timeout=60):
    """cowprof run -i INTERVAL -o TMP/NAME -- python3 samples/mp/SCRIPT ARGS:
    (exit status, the script's RESULT, a connection to the session). These
    tests are about the recorder's figures and events at short intervals:
    without fault attribution (test_run_faults has it), so that draining
    first writes does not compete with the 0.1 s samples on a loaded
    2-core machine."""
    path = session_path(name)
    r = subprocess.run([COWPROF, "run", "--no-faults", "-i", interval, "-o", path, "--",
                        PYTHON, os.path.join(MP_DIR, script), *args],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, result_of(r.stdout), db(path), r


def processes(c):
    """pid -> row dict of the session's processes table (pids are unique
    in these short runs: checked)."""
    cols = ["id", "pid", "ppid", "parent_id", "fork_time", "exit_time", "exit_code",
            "exit_signal", "cmd"]
    rows = [dict(zip(cols, r)) for r in c.execute("SELECT %s FROM processes" % ", ".join(cols))]
    by_pid = {r["pid"]: r for r in rows}
    assert len(by_pid) == len(rows), rows
    return by_pid


def exit_details(c):
    return {pid: d for pid, d in c.execute("SELECT pid, detail FROM events WHERE kind = 'exit'")}


def samples_of(c, pid, *cols):
    return c.execute("SELECT %s FROM proc_samples ps JOIN processes p ON p.id = ps.process_id"
                     " WHERE p.pid = ? ORDER BY ps.sample_id" % ", ".join(cols), (pid,)).fetchall()




def load(port, *args):
    r = subprocess.run([PYTHON, LOAD, "--port", str(port), *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    words = r.stdout.split()
    assert words[0::2] == ["requests", "errors", "seconds", "rps"], r.stdout
    return dict(zip(words[0::2], map(float, words[1::2])))


def statm_shared_kb(pid):
    # what psutil's memory_info().shared is: statm's 3rd field (file pages)
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[2]) * PAGE_KB


# -- samples/gunicorn --------------------------------------------------------

def test_load_script_is_bounded_by_count_and_time():
    with Gunicorn("conf_preload.py", 2, 20000) as g:
        r = load(g.port, "--requests", "30", "--concurrency", "3")
        assert r["requests"] == 30 and r["errors"] == 0 and r["rps"] > 0, r
        t0 = time.time()
        r = load(g.port, "--requests", "1000000", "--concurrency", "2", "--duration", "1")
        took = time.time() - t0
        assert took < 5, took  # the interpreter's start-up plus 1 s
        assert 1 <= r["seconds"] < 2 and 10 < r["requests"] < 1000000 and r["errors"] == 0, r
        out = subprocess.run([PYTHON, LOAD, "--port", str(g.port), "--requests", "4",
                              "--path", "/health", "--json"],
                             capture_output=True, text=True, timeout=60).stdout
        assert json.loads(out)["requests"] == 4, out
    # nothing listens there any more: every request is an error, still exit 0
    r = load(g.port, "--requests", "5", "--concurrency", "2")
    assert r["requests"] == 5 and r["errors"] == 5 and r["rps"] == 0, r


def worker_figures(g):
    snap = snapshot(g.pid, regions=False)
    (w,) = snap["processes"][1:]
    return snap["processes"][0], w


def test_gc_disable_stops_automatic_collections_but_not_gc_collect():
    items = 200000  # ~64 MiB of the master's table
    grown = {}
    for config in ("conf_preload.py", "conf_gcdisable.py", "conf_freeze.py"):
        with Gunicorn(config, 1, items) as g:
            master, before = worker_figures(g)
            table_kb = master["anon_kb"] - 16 * 1024  # less the interpreter and Flask
            assert before["copied_kb"] < 8 * 1024, (config, before)
            for _ in range(2):  # 100,000 cached entries: enough for a full collection
                g.get("/grow")
            _, w = worker_figures(g)
            assert w["new_kb"] > 25 * 1024, (config, w)  # the cache itself
            grown[config] = w["copied_kb"]
            if config != "conf_preload.py":
                # no automatic collection visited the master's objects
                assert w["copied_kb"] < 10 * 1024, (config, w)
                g.get("/gc")
                _, w = worker_figures(g)
                if config == "conf_gcdisable.py":
                    # an explicit gc.collect() still visits them all
                    assert w["copied_kb"] > 0.5 * table_kb, (config, w, table_kb)
                else:
                    assert w["copied_kb"] < 10 * 1024, (config, w)
            else:
                # the automatic full collection copied the GC-tracked objects
                # (tuples and lists: about 60% of the table)
                assert w["copied_kb"] > 0.5 * table_kb, (config, w, table_kb)
    print("      copied after /grow x2: %s" % ", ".join(
        "%s %.1f MiB" % (k, v / 1024.0) for k, v in grown.items()))


# -- samples/mp/fork_vs_spawn.py ----------------------------------------------

def test_fork_child_shares_the_structure_spawn_child_does_not():
    p = subprocess.Popen([PYTHON, os.path.join(MP_DIR, "fork_vs_spawn.py"), "--items", "300000",
                          "--no-cowprof", "--hold", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = None
        for line in p.stdout:
            if line.startswith("READY "):
                ready = json.loads(line[6:])
                break
        assert ready, p.stderr.read()
        data_kb = ready["data_kb"]
        assert 80 * 1024 < data_kb < 120 * 1024, data_kb  # 300,000 entries, ~320 B each
        snap = snapshot(ready["parent"], regions=False)
        procs = {q["pid"]: q for q in snap["processes"]}
        fork, spawn = procs[ready["fork"]], procs[ready["spawn"]]
        assert fork["ppid"] == spawn["ppid"] == ready["parent"]
        # the fork child: the whole structure is the parent's pages, nothing copied
        assert fork["shared_with_parent_kb"] >= data_kb, (fork, data_kb)
        assert fork["copied_kb"] < 4 * 1024 and fork["new_kb"] < 1024, fork
        assert fork["uss_kb"] < 4 * 1024, fork
        # the spawn child: a new interpreter that rebuilt it, none of it shared
        assert spawn["shared_with_parent_kb"] == 0, spawn
        assert spawn["new_kb"] >= data_kb, (spawn, data_kb)
        assert spawn["uss_kb"] >= data_kb, (spawn, data_kb)
        # RSS alone does not tell them apart, and psutil's `shared` (statm's
        # file pages) says the fork child shares next to nothing
        assert abs(fork["rss_kb"] - spawn["rss_kb"]) < 0.5 * data_kb, (fork, spawn)
        psutil_shared = statm_shared_kb(ready["fork"])
        assert psutil_shared < 0.1 * fork["shared_with_parent_kb"], psutil_shared
        t = snap["tree"]
        assert t["unique_kb"] < t["rss_kb"] - 0.9 * data_kb, t
    finally:
        os.kill(p.pid, signal.SIGTERM)  # the script ends its children first
        p.communicate(timeout=30)
    for pid in (ready or {}).get("fork"), (ready or {}).get("spawn"):
        if pid:
            wait_gone(pid)


def test_fork_vs_spawn_prints_psutil_beside_cowprof_and_touch_copies():
    r = subprocess.run([PYTHON, os.path.join(MP_DIR, "fork_vs_spawn.py"), "--items", "200000",
                        "--touch"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    res = result_of(r.stdout)
    data_kb = res["data_kb"]
    roles = {q["role"]: q for q in res["processes"]}
    assert {"parent", "fork child", "spawn child"} <= set(roles), roles
    for q in roles.values():
        assert q["cowprof"] is not None, q  # the script ran build/cowprof itself
    assert all(q["cowprof"]["pid"] == q["pid"] for q in roles.values())
    fork = roles["fork child"]["cowprof"]
    spawn = roles["spawn child"]["cowprof"]
    # one read-only pass: reference counts copied most of the fork child's pages
    assert fork["copied_kb"] > 0.75 * data_kb, (fork, data_kb)
    assert fork["copied_kb"] > fork["shared_with_parent_kb"], fork
    assert spawn["shared_with_parent_kb"] == 0 and spawn["new_kb"] > data_kb, spawn
    ps = roles["fork child"]["psutil"]
    if importlib.util.find_spec("psutil") is None:
        assert ps is None
        return
    assert abs(ps["rss_kb"] - fork["rss_kb"]) < 0.05 * fork["rss_kb"] + 1024, (ps, fork)
    assert ps["shared_kb"] < 16 * 1024, ps


# -- samples/mp/pool_child_killed.py ------------------------------------------

def test_pool_child_killed_by_sigkill_is_recorded_and_the_map_never_returns():
    rc, res, c, r = run_recorded("killed.db", "pool_child_killed.py", "--timeout", "2",
                                 "--items", "50000")
    assert rc == 0, (rc, r.stderr)
    assert res["hung"] is True, res
    procs = processes(c)
    root = procs[res["parent"]]
    assert root["parent_id"] is None and root["exit_code"] == 0
    killed = procs[res["killed"]]
    assert killed["exit_signal"] == 9 and killed["exit_code"] is None, killed
    assert killed["parent_id"] == root["id"]
    assert exit_details(c)[res["killed"]] == "killed by SIGKILL"
    # 0.5 s into its 1 s task
    assert 0.3 < killed["exit_time"] - killed["fork_time"] < 1.5, killed
    (new,) = res["replacements"]
    rep = procs[new]
    assert rep["parent_id"] == root["id"] and rep["pid"] not in res["pool"]
    # the pool replaced it within its 0.1 s maintenance poll
    assert 0 <= rep["fork_time"] - killed["exit_time"] < 0.5, (rep, killed)
    # the other children lived on until terminate(), after the 2 s timeout,
    # which ends them with the end-of-work sentinel or SIGTERM, whichever
    # comes first
    for pid in [p for p in res["pool"] if p != res["killed"]] + [new]:
        q = procs[pid]
        assert (q["exit_code"], q["exit_signal"]) in ((0, None), (None, 15)), q
        assert q["exit_time"] - killed["exit_time"] > 1.8, (q, killed)
    assert len(procs) == 1 + len(res["pool"]) + 1, procs
    # each pool child shares its parent's memory
    for pid in res["pool"]:
        sh, cp = samples_of(c, pid, "shared_with_parent_kb", "copied_kb")[0]
        assert sh > 0.9 * (sh + cp), (pid, sh, cp)


# -- samples/mp/pool_in_handler.py --------------------------------------------

def test_pool_in_handler_forks_pools_under_every_worker():
    requests, workers = 8, 4
    rc, res, c, r = run_recorded("pool.db", "pool_in_handler.py", "--requests", str(requests),
                                 "--pause", "0.3", "--data-items", "50000", interval="0.1")
    assert rc == 0, (rc, r.stderr)
    assert res["requests"] == requests and res["errors"] == 0, res
    procs = processes(c)
    by_id = {p["id"]: p for p in procs.values()}
    master = procs[res["master"]]
    assert "gunicorn" in master["cmd"] and by_id[master["parent_id"]]["parent_id"] is None
    ws = [p for p in procs.values() if p["parent_id"] == master["id"]]
    assert sorted(p["pid"] for p in ws) == sorted(res["workers"]), (ws, res["workers"])
    worker_ids = {p["id"] for p in ws}
    pools = [p for p in procs.values() if p["parent_id"] in worker_ids]
    # exactly 4 pool processes per request, every one forked under a worker
    assert len(pools) == 4 * requests, len(pools)
    assert set(res["pool_pids"]) <= {p["pid"] for p in pools}
    assert len({p["parent_id"] for p in pools}) >= 2, pools  # the load reached several workers
    assert len(procs) == 2 + workers + 4 * requests, len(procs)
    sampled = 0
    for p in pools:
        assert p["exit_code"] == 0 and p["exit_signal"] is None, p
        assert p["exit_time"] - p["fork_time"] < 5, p
        # its worker's memory, shared, in every sample whose walk ended
        # before the process began to exit (one read mid-exit shows its
        # memory half torn down)
        rows = c.execute("SELECT ps.shared_with_parent_kb, ps.copied_kb FROM proc_samples ps"
                         " JOIN samples s ON s.id = ps.sample_id WHERE ps.process_id = ?"
                         " AND s.t + s.duration_s < ?", (p["id"], p["exit_time"])).fetchall()
        for sh, cp in rows:
            assert sh > 0.85 * (sh + cp), (p, sh, cp)
        sampled += bool(rows)
    assert sampled >= 16, sampled  # the pools live 0.4 s: most are seen at 0.1 s
    forks = {pid for (pid,) in c.execute("SELECT pid FROM events WHERE kind = 'fork'")}
    assert {p["pid"] for p in pools} <= forks
    peak = c.execute("SELECT max(processes) FROM samples").fetchone()[0]
    assert peak >= 2 + workers + 8, peak  # two requests' pools at once, at least


# -- samples/mp/manager_gunicorn.py --------------------------------------------

def test_killed_worker_takes_the_manager_down_and_its_replacement_hangs():
    rc, res, c, r = run_recorded("manager.db", "manager_gunicorn.py", "--pause", "0.5",
                                 "--watch", "1.5", interval="0.1")
    assert rc == 0, (rc, r.stderr, res)
    assert res["stuck"] is True and res["respawned_wchan"] == "unix_stream_read_generic", res
    procs = processes(c)
    master = procs[res["master"]]
    data, killed, new = procs[res["data"]], procs[res["killed"]], procs[res["respawned"]]
    (survivor,) = [procs[p] for p in res["workers"] if p != res["killed"]]
    for p in (data, killed, new, survivor):
        assert p["parent_id"] == master["id"], p
    # the worker left with exit 0 after SIGTERM; its atexit SIGTERMed the
    # data process, which died first
    assert killed["exit_code"] == 0 and killed["exit_signal"] is None, killed
    assert data["exit_signal"] == 15 and data["exit_code"] is None, data
    assert exit_details(c)[res["data"]] == "killed by SIGTERM"
    assert 0 <= killed["exit_time"] - data["exit_time"] < 0.5, (killed, data)
    # gunicorn forked the replacement once the worker was reaped
    assert 0 <= new["fork_time"] - killed["exit_time"] < 0.5, (new, killed)
    assert new["fork_time"] - data["exit_time"] > 0
    # it never got past post_fork: asleep in every sample once forked (0.5 s
    # for post_fork to start), its memory flat
    rows = c.execute("SELECT ps.state, ps.rss_kb, ps.new_kb FROM proc_samples ps"
                     " JOIN samples s ON s.id = ps.sample_id WHERE ps.process_id = ?"
                     " AND s.t > ? AND s.t + s.duration_s < ? ORDER BY s.id",
                     (new["id"], new["fork_time"] + 0.5, new["exit_time"])).fetchall()
    assert len(rows) >= 10, rows
    assert {s for s, _, _ in rows} == {"S"}, rows
    rss = [x for _, x, _ in rows]
    assert max(rss) - min(rss) < 0.02 * max(rss), rss
    assert max(n for _, _, n in rows) < 1024, rows
    # on shutdown neither worker could exit (both blocked on the dead
    # Manager): gunicorn SIGKILLed them after graceful_timeout (3 s)
    assert res["shutdown_wchan"] == {str(res["respawned"]): "unix_stream_read_generic",
                                     str(survivor["pid"]): "unix_stream_read_generic"}, res
    for p in (new, survivor):
        assert p["exit_signal"] == 9, p
    assert master["exit_code"] == 0, master
    assert len(procs) == 6, procs  # driver, master, data, 2 workers, 1 replacement


def test_sigkilled_worker_leaves_the_manager_alone():
    rc, res, c, r = run_recorded("manager-kill.db", "manager_gunicorn.py", "--signal", "KILL",
                                 "--pause", "0.5", "--watch", "1", interval="0.1")
    assert rc == 0, (rc, r.stderr, res)
    assert res["stuck"] is False and res["respawned_registered"] is True, res
    procs = processes(c)
    data, killed, new = procs[res["data"]], procs[res["killed"]], procs[res["respawned"]]
    assert killed["exit_signal"] == 9, killed
    # no atexit ran: the data process lived on until gunicorn's shutdown,
    # where the first worker to exit SIGTERMs it
    assert data["exit_time"] - new["fork_time"] > 1.5, (data, new)
    assert data["exit_signal"] == 15, data
    assert len(procs) == 6, procs
