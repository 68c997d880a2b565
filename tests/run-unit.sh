#!/bin/sh
# Run unit test binaries from DIR; print cmocka's output and one summary line.
dir=$1; shift
pass=0; fail=0; failed=""
for t in "$@"; do
	out=$("$dir/$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR) |^\[  PASSED  \]|^\[==========\] .* ran|Assert|ERROR|runtime error|Sanitizer' || true
	# one line per cmocka group: add them up
	n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {if (s) print s}')
	pass=$((pass + ${n:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then fail=$((fail + 1)); fi
	[ $rc -ne 0 ] && failed="$failed $t"
done
echo "unit tests ($dir): $pass passed, $fail failed"
[ -z "$failed" ] || { echo "failing:$failed"; exit 1; }
