#!/bin/sh
# make demo: start the sample fork tree, measure it with cowprof, end it.
#
# The tree: a master with 256 MiB of private memory and a 4 MiB MAP_SHARED
# region forks 4 workers; worker i rewrites 0, 4, 32 and 128 MiB of the
# inherited buffer, worker 0 forks a grandchild that rewrites 8 MiB, the
# master rewrites 2 MiB after the fork, and every descendant allocates 1 MiB
# of its own.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp)
build/forktree -a 256 -s 4 -n 4 -w 0,1024,8192,32768 -g 2048 -p 512 -N 256 >"$out" &
root=$!
trap 'kill -TERM $root 2>/dev/null; wait $root 2>/dev/null; rm -f "$out"' EXIT INT TERM
while [ ! -s "$out" ]; do
	kill -0 $root 2>/dev/null || { echo "demo: forktree failed" >&2; exit 1; }
	sleep 0.1
done
echo "Sample tree (samples/forktree.c), expected figures for its 256 MiB buffer:"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for p in r["processes"]:
    print("  %-10s pid %-7d copied %6.1f MiB  still shared %6.1f MiB  new %5.1f MiB" % (
        p["role"], p["pid"], p["buffer_copied_pages"] / 256, p["buffer_shared_pages"] / 256,
        p["new_pages"] / 256))
PY
echo
echo "\$ cowprof snapshot $root"
build/cowprof snapshot "$root"
