#!/bin/sh
# Run every Check suite given as an argument; print each suite's summary (and any line saying
# what it skipped) and a closing total. Suites of the float32 build (a tests-f32/ directory)
# are named f32/check_<area>.
# Exit non-zero when any check fails or any suite does not finish.
passed=0; failed=0; bad=0
for t in "$@"; do
  name=$(basename "$t")
  case "$t" in *tests-f32/*) name="f32/$name" ;; esac
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v '^Running suite' | grep -E '%: Checks|:[EF]:|skipped:' | sed "s|^|$name: |"
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+%: Checks: [0-9]+' | tail -n 1)
  if [ -z "$line" ]; then
    echo "$name: did not finish (exit $rc)"; printf '%s\n' "$out" | tail -n 5; bad=$((bad + 1)); continue
  fi
  n=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
  f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
  e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
  passed=$((passed + n - f - e)); failed=$((failed + f + e))
  [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ] && bad=$((bad + 1))
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$bad" -eq 0 ]
