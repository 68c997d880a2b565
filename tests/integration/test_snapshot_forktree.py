"""cowprof snapshot on samples/forktree: figures equal the known answers the
tree prints, and rss/pss/uss equal the kernel's smaps_rollup."""
from treeutil import Forktree, region_at, smaps_rollup, snapshot, within_pct

PAGE_KB = 4
SLACK_KB = 16 * PAGE_KB  # libc data, stack and allocator pages a process touches


def check_buffer(ft, snap):
    """Per region: exact figures for the buffer, the shared region and the
    fresh mapping of every process."""
    byp = {p["pid"]: p for p in snap["processes"]}
    buf, shared = ft.ready["buffer"], ft.ready["shared"]
    for pid, exp in ft.procs.items():
        p = byp[pid]
        b = region_at(p, buf["start"])
        assert (b["start"], b["end"]) == (buf["start"], buf["start"] + buf["pages"] * 4096), b
        assert b["copied_kb"] == exp["buffer_copied_pages"] * PAGE_KB, (pid, b, exp)
        assert b["shared_with_parent_kb"] == exp["buffer_shared_pages"] * PAGE_KB, (pid, b, exp)
        assert b["new_kb"] == 0, (pid, b)
        assert b["rss_kb"] == buf["pages"] * PAGE_KB, (pid, b)
        if exp["role"] == "child" and shared["pages"]:
            s = region_at(p, shared["start"])
            assert s["kind"] == "shmem", s
            assert s["copied_kb"] == 0, s
            assert s["shared_with_parent_kb"] == shared["pages"] * PAGE_KB, s
        if exp["new_pages"]:
            n = region_at(p, exp["new_start"])
            assert n["new_kb"] >= exp["new_pages"] * PAGE_KB, (pid, n, exp)


def check_totals(ft, snap):
    """Per process: totals within the slack every process adds."""
    byp = {p["pid"]: p for p in snap["processes"]}
    shared = ft.ready["shared"]
    for pid, exp in ft.procs.items():
        p = byp[pid]
        if exp["role"] == "root":
            assert p["copied_kb"] == p["new_kb"] == p["shared_with_parent_kb"] == 0, p
            continue
        copied = exp["buffer_copied_pages"] * PAGE_KB
        new = exp["new_pages"] * PAGE_KB
        assert copied <= p["copied_kb"] <= copied + SLACK_KB, (pid, p["copied_kb"], copied)
        assert new <= p["new_kb"] <= new + SLACK_KB, (pid, p["new_kb"], new)
        low = exp["buffer_shared_pages"] * PAGE_KB
        if exp["role"] == "child":
            low += shared["pages"] * PAGE_KB
        assert low <= p["shared_with_parent_kb"] <= low + 4 * SLACK_KB, (pid, p, low)
        assert 0 < p["shared_pct"] <= 100


def check_kernel(snap):
    """rss, pss and uss equal the kernel's smaps_rollup within 1%."""
    for p in snap["processes"]:
        k = smaps_rollup(p["pid"])
        uss = k["Private_Clean"] + k["Private_Dirty"]
        assert within_pct(p["rss_kb"], k["Rss"], 1), (p["pid"], p["rss_kb"], k["Rss"])
        assert within_pct(p["pss_kb"], k["Pss"], 1), (p["pid"], p["pss_kb"], k["Pss"])
        assert within_pct(p["uss_kb"], uss, 1), (p["pid"], p["uss_kb"], uss)
        assert within_pct(p["anon_kb"], k["Anonymous"], 1), (p["pid"], p["anon_kb"], k["Anonymous"])
        assert p["swap_kb"] == k.get("Swap", 0)


def check_tree(snap):
    t = snap["tree"]
    assert t["processes"] == len(snap["processes"])
    assert t["rss_kb"] == sum(p["rss_kb"] for p in snap["processes"])
    root = snap["processes"][0]
    copies = sum(p["copied_kb"] + p["new_kb"] for p in snap["processes"][1:])
    # every page once: the root's pages plus what the others copied or made
    assert root["rss_kb"] <= t["unique_kb"] <= root["rss_kb"] + copies + 2 * SLACK_KB * len(snap["processes"]), t


def measure(*args):
    with Forktree(*args) as ft:
        snap = snapshot(ft.pid)
        assert {p["pid"] for p in snap["processes"]} == set(ft.procs)
        assert snap["root"] == ft.pid and snap["page_size"] == 4096
        check_buffer(ft, snap)
        check_totals(ft, snap)
        check_kernel(snap)
        check_tree(snap)
        return ft.ready, snap


def test_three_children_grandchild_and_parent_writes():
    measure("-a", "64", "-n", "3", "-w", "10,20,30", "-g", "5", "-p", "7", "-N", "3")


def test_one_child_that_writes_nothing():
    ready, snap = measure("-a", "16", "-s", "1", "-n", "1", "-w", "0")
    assert snap["processes"][1]["shared_pct"] > 99


def test_many_children_heavy_writes():
    measure("-a", "32", "-s", "0", "-n", "8", "-w", "4096,2048,1024,512,0", "-N", "100")


def test_parent_writes_after_fork_show_as_copied_in_children():
    ready, snap = measure("-a", "16", "-n", "2", "-w", "0", "-p", "300")
    for p in snap["processes"][1:]:
        assert 300 * PAGE_KB <= p["copied_kb"] <= 300 * PAGE_KB + SLACK_KB


def buffer_figures(snap, ready):
    out = {}
    for p in snap["processes"]:
        b = region_at(p, ready["buffer"]["start"])
        out[p["pid"]] = (b["copied_kb"], b["shared_with_parent_kb"])
    return sorted(out.values())


def test_thp_buffer_gives_the_same_copied_figures():
    args = ["-a", "64", "-n", "2", "-w", "100,513", "-g", "7", "-p", "9"]
    r4k, s4k = measure(*args)
    with Forktree(*args, "-T") as ft:
        assert ft.ready["thp"] is True
        root = ft.pid
        k = smaps_rollup(root)
        assert k["AnonHugePages"] >= 32 * 1024, k  # the buffer really is THP-backed
        snap = snapshot(root)
        check_buffer(ft, snap)
        check_kernel(snap)
        assert buffer_figures(snap, ft.ready) == buffer_figures(s4k, r4k)
