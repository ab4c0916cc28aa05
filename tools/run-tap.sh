#!/bin/sh
# run-tap.sh SUITE RESULT_FILE CMD [ARGS...]
# Run a test program that writes TAP ("ok ..." / "not ok ...") on stdout and
# store its TAP in RESULT_FILE. A program that exits non-zero without
# reporting a failing test (a crash, a sanitizer abort, a missing binary)
# still counts as one failure, so nothing can pass by dying quietly.
set -u
suite=$1; out=$2; shift 2
mkdir -p "$(dirname "$out")"
log="$out.log"
"$@" >"$log" 2>&1
rc=$?
grep -E '^(not )?ok( |$)' "$log" >"$out" || true
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
    echo "not ok - $suite: exited with status $rc without reporting a failure (see $log)" >>"$out"
fi
if [ ! -s "$out" ]; then
    echo "not ok - $suite: reported no tests (see $log)" >>"$out"
fi
grep '^not ok' "$out" | sed "s|^|[$suite] |" >&2 || true
exit 0
