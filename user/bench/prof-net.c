/*
 * Profiling target (tools/qemu-profile.py): net-bench's transfers, 1 MiB
 * each, the second round's send and receive each between the "prof:"
 * markers, per KiB. Not run by make bench; boot it with
 * system-prof-net.cue and the host peer (docs/benchmarks.md, "TCP
 * through the netstack service").
 */
#define NET_BENCH_PROFILE 1
#include "net-bench.c"
