/*
 * Virtual memory layout of the kernel (see docs/memory.md).
 * Shared by assembly and C, so only plain #defines.
 */
#ifndef CAPOS_ARCH_LAYOUT_H
#define CAPOS_ARCH_LAYOUT_H

/* The kernel image is linked at KERNEL_VMA + physical address
 * (-mcmodel=kernel: the top 2 GiB). */
#define KERNEL_VMA       0xffffffff80000000
#define KERNEL_PHYS_BASE 0x100000

/* Every physical byte of RAM is visible at DIRECT_MAP_BASE + phys. */
#define DIRECT_MAP_BASE 0xffff800000000000
#define DIRECT_MAP_SIZE 0x0000400000000000 /* 64 TiB */

/* Kernel stacks, each with an unmapped guard page below it. */
#define KSTACK_REGION_BASE 0xffffc00000000000
#define KSTACK_REGION_SIZE 0x0000000040000000 /* 1 GiB */

/* Large kernel heap blocks (kernel/heap.c), each an unmapped page apart. */
#define HEAP_REGION_BASE 0xffffc40000000000
#define HEAP_REGION_SIZE 0x0000000040000000 /* 1 GiB */

/* Uncached device registers (LAPIC, ...). */
#define MMIO_REGION_BASE 0xffffc80000000000
#define MMIO_REGION_SIZE 0x0000000040000000

/* The boot page tables map the first 4 GiB of physical memory both at 0
 * and at DIRECT_MAP_BASE, with 2 MiB pages. */
#define BOOT_MAPPED_LIMIT 0x100000000

#define PAGE_SIZE       4096
#define BOOT_STACK_SIZE 16384

#endif
