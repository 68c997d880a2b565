#!/bin/sh
# Run each libFuzzer target in DIR for a bounded time, seeded from the
# fixture files it parses. Prints one line per target and a summary line;
# exits 1 if any target crashed, leaked, hung or is missing.
#
#   tests/fuzz/run.sh DIR TARGET...
#
# FUZZ_TIME (seconds per target, default 8) overrides the time bound.
# Run from the project root (make check-fuzz does).
dir=$1; shift
time=${FUZZ_TIME:-8}
fixtures=tests/fixtures/proc

# The fixture files each target parses, from the "seeds:" line of its
# source's header comment (tests/fuzz/TARGET.c): names of files under
# tests/fixtures/proc/*/*/, "files:GLOB" for any files, "find:DIR:NAME" for
# the files called NAME (a pattern) anywhere under DIR, or the named sets netlink,
# unix_diag, fdlinks and pyframe below.
seeds_of() {
	sed -n 's/^ \* seeds: //p' "tests/fuzz/$1.c" | grep -v '^(none'
}

# Fill corpus folder $2 with copies of the fixture files of target $1,
# named case-pid-file so they do not collide. Prints how many.
make_corpus() {
	rm -rf "$2" && mkdir -p "$2" || return 1
	n=0
	for name in $(seeds_of "$1"); do
		if [ "$name" = pyframe ]; then
			for f in tests/fixtures/python/fuzz/*.bin; do
				cp "$f" "$2/" && n=$((n + 1))
			done
			continue
		fi
		case $name in find:*)
			spec=${name#find:}
			for f in $(find "${spec%%:*}" -type f -name "${spec#*:}" | sort); do
				n=$((n + 1))
				cp "$f" "$2/$n-${f##*/}"
			done
			continue ;;
		esac
		case $name in files:*)
			k=0
			for f in ${name#files:}; do
				k=$((k + 1))
				cp "$f" "$2/$k-${f##*/}" && n=$((n + 1))
			done
			continue ;;
		esac
		if [ "$name" = netlink ] || [ "$name" = unix_diag ]; then
			glob='*'; [ "$name" = unix_diag ] && glob='unix_diag*'
			for f in tests/fixtures/netlink/$glob.bin; do
				cp "$f" "$2/" && n=$((n + 1))
			done
			continue
		fi
		if [ "$name" = fdlinks ]; then  # the text of each captured fd link
			for f in "$fixtures"/*/*/fd/*; do
				[ -L "$f" ] || continue
				readlink "$f" >"$2/link-$n" && n=$((n + 1))
			done
			continue
		fi
		for f in "$fixtures"/*/*/"$name"; do
			[ -f "$f" ] || continue
			pid_dir=${f%/"$name"}
			case_dir=${pid_dir%/*}
			cp "$f" "$2/${case_dir##*/}-${pid_dir##*/}-$(echo "$name" | tr / -)"
			n=$((n + 1))
		done
	done
	echo $n
}

# UBSan only reports by default: make undefined behaviour a failure.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

pass=0; fail=0
for t in "$@"; do
	bin=$dir/$t
	log=$dir/$t.log
	if [ ! -x "$bin" ]; then
		echo "$t: FAILED (no binary $bin)"
		fail=$((fail + 1))
		continue
	fi
	corpus=$dir/corpus-$t
	seeds=$(make_corpus "$t" "$corpus") || seeds=0
	"$bin" -max_total_time="$time" -rss_limit_mb=1024 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$dir/$t-" \
		"$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "$t: ok (${runs:-?} runs in ${time}s, $seeds seeds)"
		pass=$((pass + 1))
	else
		what=$(grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|SUMMARY' "$log")
		crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
		echo "$t: FAILED (exit $rc: ${what:-see $log}; input ${crash:-none}; log $log)"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
