"""cowprof snapshot on a real Debian gunicorn tree (master + 4 workers)."""
from treeutil import Gunicorn, smaps_rollup, snapshot, within_pct



def test_gunicorn_preload_workers_share_the_masters_data():
    with Gunicorn("conf_preload.py") as g:
        snap = snapshot(g.pid, regions=False)
        pids = [p["pid"] for p in snap["processes"]]
        assert pids[0] == g.pid and sorted(pids[1:]) == g.workers, pids
        master = snap["processes"][0]
        assert master["anon_kb"] > 100 * 1024, master  # the preloaded data
        for w in snap["processes"][1:]:
            assert w["ppid"] == g.pid
            assert "gunicorn" in w["cmd"] or "app:app" in w["cmd"], w["cmd"]
            # freshly forked, idle workers still share nearly everything
            assert w["shared_pct"] > 90, w
            assert w["shared_with_parent_kb"] > 0.9 * master["anon_kb"], w
        for p in snap["processes"]:
            k = smaps_rollup(p["pid"])
            assert within_pct(p["rss_kb"], k["Rss"], 1), (p, k)
            assert within_pct(p["pss_kb"], k["Pss"], 1), (p, k)
        t = snap["tree"]
        assert t["unique_kb"] < 0.5 * t["rss_kb"], t


def test_gunicorn_read_only_pass_copies_the_data():
    with Gunicorn("conf_preload.py", workers=2) as g:
        before = snapshot(g.pid, regions=False)
        for _ in range(4):  # reach both workers
            g.get("/touch")
        after = snapshot(g.pid, regions=False)
        copied = {p["pid"]: p["copied_kb"] for p in after["processes"][1:]}
        data_kb = before["processes"][0]["anon_kb"]
        # refcount writes of a read-only pass copy most of the data in the
        # worker(s) that served it
        assert max(copied.values()) > 0.5 * data_kb, (copied, data_kb)
