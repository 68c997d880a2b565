#!/bin/sh
# make demo: what cowprof is for, on the bundled samples.
#
# 1. A snapshot of samples/forktree (known answers): a master with 256 MiB
#    forks four workers that rewrite 0, 4, 32 and 128 MiB of it, a
#    grandchild rewrites 8 MiB, the master rewrites 2 MiB after the fork.
# 2. The gunicorn sample with preload_app (4 workers sharing a ~200 MB
#    dict) recorded for 20 s under light traffic, with a gc.collect() and a
#    read-only pass over the dict along the way; then its report.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp)
build/forktree -a 256 -s 4 -n 4 -w 0,1024,8192,32768 -g 2048 -p 512 -N 256 >"$out" &
root=$!
trap 'kill -TERM $root 2>/dev/null || true; wait $root 2>/dev/null || true; rm -f "$out"' EXIT INT TERM
while [ ! -s "$out" ]; do
	kill -0 $root 2>/dev/null || { echo "demo: forktree failed" >&2; exit 1; }
	sleep 0.1
done
echo "== 1. cowprof snapshot of the sample fork tree (samples/forktree.c)"
echo
echo "\$ cowprof snapshot $root"
build/cowprof snapshot "$root"
kill -TERM $root; wait $root 2>/dev/null || true
echo
echo "== 2. cowprof record of gunicorn with preload_app, 20 s under traffic"
echo
mkdir -p build/demo
/usr/bin/python3 samples/gunicorn/compare_strategies.py --configs conf_preload.py \
	--seconds 20 --out build/demo --no-compare
echo
echo "\$ cowprof report build/demo/cowprof-preload.db"
build/cowprof report build/demo/cowprof-preload.db
