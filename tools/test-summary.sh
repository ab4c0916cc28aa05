#!/bin/sh
# test-summary.sh RESULTS_DIR SUITE...
# Sum the TAP results of every suite and print the final line
# "N passed, N failed[, N skipped]". A suite that left no result file (its
# build failed, say) counts as one failure. Exit status is 1 if anything failed.
set -u
dir=$1; shift
passed=0; failed=0; skipped=0
for s in "$@"; do
    f="$dir/$s.tap"
    if [ ! -f "$f" ]; then
        echo "[$s] not ok - suite produced no results (did it build? see the output above)"
        failed=$((failed + 1))
        continue
    fi
    p=$(grep -E '^ok' "$f" | grep -vci '# *skip' || true)
    k=$(grep -E '^ok' "$f" | grep -ci '# *skip' || true)
    n=$(grep -cE '^not ok' "$f" || true)
    printf '  %-32s %4d passed, %d failed' "$s" "$p" "$n"
    [ "$k" -gt 0 ] && printf ', %d skipped' "$k"
    printf '\n'
    passed=$((passed + p)); failed=$((failed + n)); skipped=$((skipped + k))
done
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
