#!/bin/sh
# bench-targets.sh DIR
# The issue-13 table of `make bench`: the figures that tools/bench-ring.sh
# left in DIR/{ring,ipc}-{icount,tcg}.txt, each beside its target and
# Linux 6.1's figure for the closest kind of work, measured by
# ../shared/linux-baseline in the same QEMU under the same -icount
# counting (2026-12-06; docs/benchmarks.md, "Targets beside Linux", says
# which Linux figure goes with which row and why).
#
# Rows: KEY|LABEL|TARGET|LINUX|LINUX-WHAT, where TARGET is "-", "le N"
# (at most N) or "rel F KEY2" (at most F times KEY2's icount figure).
set -eu
dir=${1:-build/bench}
cat "$dir/ring-icount.txt" "$dir/ipc-icount.txt" "$dir/thread-icount.txt" >"$dir/all-icount.txt"
cat "$dir/ring-tcg.txt" "$dir/ipc-tcg.txt" "$dir/thread-tcg.txt" >"$dir/all-tcg.txt"
printf '== issues 13, 14: targets beside Linux %8s %11s %15s %6s  %s\n' \
    "icount" "TCG" "target" "" "Linux 6.1 (same QEMU, icount)"
awk -F'|' -v icount="$dir/all-icount.txt" -v tcg="$dir/all-tcg.txt" '
BEGIN {
    while ((getline line < icount) > 0) { split(line, f, " "); a[f[1]] = f[2] }
    while ((getline line < tcg) > 0) { split(line, f, " "); b[f[1]] = f[2] }
}
/^--/ { print "   " substr($0, 4); next }
NF < 5 { next }
{
    key = $1; label = $2; split($3, t, " "); linux = $4; what = $5
    v = (key in a) ? a[key] : "missing"; w = (key in b) ? b[key] : "missing"
    target = ""; ok = ""
    if (t[1] == "le") limit = t[2]
    else if (t[1] == "rel") limit = (t[3] in a && a[t[3]] ~ /^[0-9]/) ? t[2] * a[t[3]] : ""
    else limit = ""
    if (t[1] != "-") {
        target = (limit == "") ? "?" : sprintf("<= %d", limit)
        if (t[1] == "rel") target = target " (" t[2] "x)"
        if (limit != "" && v ~ /^-?[0-9.]+$/) ok = (v + 0 <= limit + 0) ? "met" : "MISSED"
    }
    printf "   %-34s %9s %11s %15s %6s  %s\n", label, v, w, target, ok, (linux == "-") ? "-" : linux "  " what
}' <<'ROWS'
-- 1. endpoint round trip (instructions per round trip)
ipc-empty|empty params, 2 processes|le 1200|12365|futex round trip, 2 processes
-- 2. the same beside K CPU-bound processes (per round trip)
ipc-empty-load1|1 busy: mean|rel 1.2 ipc-empty|12365|futex round trip, unloaded
ipc-empty-load1-median|1 busy: median|rel 1.2 ipc-empty|-|
ipc-empty-load1-p99|1 busy: 99th percentile|rel 1.2 ipc-empty|-|
ipc-empty-load2|2 busy: mean|rel 1.2 ipc-empty|-|
ipc-empty-load2-median|2 busy: median|rel 1.2 ipc-empty|-|
ipc-empty-load2-p99|2 busy: 99th percentile|rel 1.2 ipc-empty|-|
ipc-empty-load4|4 busy: mean|rel 1.2 ipc-empty|-|
ipc-empty-load4-median|4 busy: median|rel 1.2 ipc-empty|-|
ipc-empty-load4-p99|4 busy: 99th percentile|rel 1.2 ipc-empty|-|
-- 3. round trip with params (results 16 B; Linux pipes carry N B both ways)
ipc-64|64 B params|-|12378|pipe round trip, 64 B
ipc-1k|1 KiB params|-|12853|pipe round trip, 1 KiB
ipc-4k|4 KiB params|le 3000|14285|pipe round trip, 4 KiB
-- 4. K clients on one endpoint (system instructions per round trip)
ipc-clients1|1 client|-|12365|futex round trip, 1 pair
ipc-clients2|2 clients|-|-|
ipc-clients2-per-added|2 clients: % per added client|le 1|-|
ipc-clients4|4 clients|-|-|
ipc-clients4-per-added|4 clients: % per added client|le 1|-|
ipc-clients8|8 clients|-|-|
ipc-clients8-per-added|8 clients: % per added client|le 1|-|
-- 5. one capability transferred (instructions added)
ipc-per-transfer|per transfer (move there and back)|le 250|2694|SCM_RIGHTS fd: 20418 - 17724 sendmsg
ipc-cap-extra|copy + receiver's RELEASE|-|2694|SCM_RIGHTS fd (sent, closed by receiver)
-- 6. Timer.sleep, virtual ns until the caller runs again (median of 11)
timer-sleep-1ms|sleep 1 ms (ns)|le 1100000|-|not measured by the tool
timer-sleep-3ms|sleep 3 ms (ns)|le 3100000|-|not measured by the tool
-- 7. cap_enter(1, 1 us), nothing pending: virtual ns to return (median of 11)
cap-enter-timeout-1us|1 us timeout (ns)|le 50000|-|not measured by the tool
-- 8. Timer.now through the stub (instructions)
timer-now|Timer.now|le 700|338|null system call (getppid)
-- 9. fairness: N counters beside a busy pair for 1 s (share, % of fair)
fair-2-min-share|2 counters: smallest share %|-|-|not measured by the tool
fair-2-max-share|2 counters: largest share %|-|-|
fair-2-pair-rts|2 counters: pair round trips|-|-|
fair-4-min-share|4 counters: smallest share %|-|-|
fair-4-max-share|4 counters: largest share %|-|-|
fair-4-pair-rts|4 counters: pair round trips|-|-|
-- 10. threads (instructions; Linux: bench/linux-threads, glibc, same QEMU, -cpu qemu64)
thread-create-join|thread create + join|le 20000|50000|pthread_create + pthread_join (72,000 with -cpu max)
park-pingpong-batched|park/wake round trip, 2 threads (wakeWait)|le 1500|9924|private futex round trip, 2 threads
park-pingpong|the same as wake, then wait: 4 entries|-|9924|private futex round trip, 2 threads
park-pingpong-batched-load2|wakeWait beside 2 busy threads: mean|-|-|
park-pingpong-batched-load2-median|wakeWait beside 2 busy threads: median|rel 1.2 park-pingpong-batched|-|
mtx-uncontended|uncontended mtx_lock + mtx_unlock|-|63|pthread_mutex_lock + unlock
mtx-uncontended-kernel-entries|kernel entries in those|le 0|0|system calls in those
ROWS
