/* TLB shootdown, between paging.c and tlb.c (arch/tlb.h). */
#ifndef CAPOS_ARCH_X86_TLB_INTERNAL_H
#define CAPOS_ARCH_X86_TLB_INTERNAL_H

#include <stdint.h>

#define TLB_FLUSH_ALL UINT64_MAX

/* Make every CPU in `cpus` but this one drop its translation of va (or
 * all, TLB_FLUSH_ALL), and wait until each has. The caller holds the
 * kernel lock and has flushed its own TLB. */
void tlb_shootdown(uint32_t cpus, uint64_t va);
/* The CPUs a kernel-half change must reach. */
uint32_t tlb_online_cpus(void);
void tlb_flush_all_local(void);

#endif
