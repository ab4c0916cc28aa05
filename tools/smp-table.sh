#!/bin/sh
# smp-table.sh TITLE PREFIX ONE TWO NAME...: the SMP figures table of
# tools/bench-smp.sh (capOS) and bench/linux-smp/run.sh (Linux): for each
# NAME, the value of the line "PREFIX NAME VALUE" in ONE (the -smp 1 run)
# and in TWO (-smp 2), and the speed-up ONE / TWO; smp-wake is a latency,
# not a speed-up.
set -eu
title=$1; prefix=$2; one=$3; two=$4
shift 4
printf '== %s (TSC cycles, multi-threaded TCG) %10s %14s %9s\n' "$title" "1 CPU" "2 CPUs" "speed-up"
for name in "$@"; do
    a=$(sed -n "s/^$prefix $name //p" "$one")
    b=$(sed -n "s/^$prefix $name //p" "$two")
    ratio=""
    case "$a$b" in
    *[!0-9]* | "") ;;
    *) ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }') ;;
    esac
    [ "$name" = smp-wake ] && ratio="(latency)"
    printf '   %-48s %14s %14s %9s\n' "$name" "${a:-none}" "${b:-none}" "$ratio"
done
