/*
 * FAST_PATH marks the functions of the common system calls (the IPC and
 * park fast paths, the switch between the two threads of a round trip).
 * GCC puts hot functions in .text.hot, and the linker script places that
 * first, so the few kilobytes a round trip executes share three or four
 * pages instead of being spread over ten. Why it matters: under QEMU's
 * TCG every CR3 write drops all cached translations, kernel pages
 * included, so each page a system call touches is walked again on the
 * next one, and with more than one CPU that happens under the kernel
 * lock (docs/smp.md). On hardware it is the iTLB and instruction cache.
 * The assembly on those paths (syscall_entry, context_switch,
 * arch_user_copy) is in .text.hot as well.
 */
#ifndef CAPOS_HOTPATH_H
#define CAPOS_HOTPATH_H

#define FAST_PATH __attribute__((hot))

/* The same for the kernel variables every system call reads or writes
 * (the kernel lock, the per-CPU areas and TSSs, ...): kernel.ld puts
 * .data.hot first in .data, so they share two pages instead of six. */
#define HOT_DATA __attribute__((section(".data.hot")))

#endif
