#!/bin/sh
# fuzz-run.sh NAME RESULT_FILE FUZZER CORPUS_DIR SECONDS
# Run a libFuzzer target over its seed corpus and then for SECONDS more.
# New inputs go to a scratch copy of the corpus, never into the repository;
# a crash input is kept in build/fuzz/crashes/NAME for reproduction.
set -u
name=$1; out=$2; fuzzer=$3; corpus=$4; secs=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "build/fuzz/crashes/$name" "$(dirname "$out")"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/"
log="$out.log"
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build/fuzz/crashes/$name/" "$work/corpus" >"$log" 2>&1
rc=$?
runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1)
if [ "$rc" -eq 0 ]; then
    echo "ok - fuzz $name: ${runs:-no run count} in ${secs}s, no crash" >"$out"
else
    echo "not ok - fuzz $name: fuzzer exited with status $rc (see $log and build/fuzz/crashes/$name)" >"$out"
    grep -E 'ERROR|SUMMARY' "$log" | head -5 >&2
fi
exit 0
