#!/bin/sh
# make demo: what cowprof is for, on the bundled samples.
#
# 1. A snapshot of samples/forktree (known answers): a master with 256 MiB
#    forks four workers that rewrite 0, 4, 32 and 128 MiB of it, a
#    grandchild rewrites 8 MiB, the master rewrites 2 MiB after the fork.
# 2. The gunicorn sample with preload_app (4 workers sharing a ~340 MiB
#    dict) under light traffic, with a gc.collect() and a read-only pass
#    over the dict along the way: on a terminal, live in `cowprof top`
#    (recording as it goes) until q; otherwise recorded for 20 s. Then its
#    report.
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
mkdir -p build/demo
rm -f build/demo/cowprof-preload.db*
if [ -t 0 ] && [ -t 1 ]; then
	echo "== 2. cowprof top on gunicorn with preload_app, under traffic (q quits)"
	echo "   a gc.collect() in every worker at +20 s, a read-only pass at +40 s"
	sleep 2
	/usr/bin/python3 samples/gunicorn/compare_strategies.py --configs conf_preload.py \
		--seconds 60 --out build/demo --no-compare --live
else
	echo "== 2. cowprof record of gunicorn with preload_app, 20 s under traffic"
	echo
	/usr/bin/python3 samples/gunicorn/compare_strategies.py --configs conf_preload.py \
		--seconds 20 --out build/demo --no-compare
fi
echo
echo "\$ cowprof report build/demo/cowprof-preload.db"
build/cowprof report build/demo/cowprof-preload.db
