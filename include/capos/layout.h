/* Process address-space layout (user half), fixed by the ABI. */
#ifndef CAPOS_USER_LAYOUT_H
#define CAPOS_USER_LAYOUT_H

/* ELF PT_LOAD segments must lie inside [IMAGE_BASE, IMAGE_LIMIT). */
#define CAPOS_USER_IMAGE_BASE  0x0000000000400000ull
#define CAPOS_USER_IMAGE_LIMIT 0x0000000080000000ull
/* Anonymous memory (VirtualMemory, MemoryObject.map) goes here. */
#define CAPOS_USER_VM_BASE  0x0000000100000000ull
#define CAPOS_USER_VM_LIMIT 0x00007f0000000000ull
/* Initial stack: grows down from STACK_TOP; a guard page below it. */
#define CAPOS_USER_STACK_TOP  0x00007ffffff00000ull
#define CAPOS_USER_STACK_SIZE 0x10000ull
/* The ring page (read-write) and the CapSet page (read-only). */
#define CAPOS_USER_RING_ADDR   0x00007ffffff10000ull
#define CAPOS_USER_CAPSET_ADDR 0x00007ffffff11000ull
/* Rings of threads other than the main one: thread slot i (1 ..
 * CAPOS_MAX_THREADS - 1) has its ring page at THREAD_RINGS + i * 4 KiB. */
#define CAPOS_USER_THREAD_RINGS 0x00007ffffff20000ull
#define CAPOS_MAX_THREADS       64
/* The main thread's TLS block and thread control block (include/capos/tcb.h):
 * the TCB page is at TLS_TCB, the block (at most 1 MiB) right below it. */
#define CAPOS_USER_TLS_TCB 0x00007fffffdff000ull

/* Highest user address + 1 (canonical lower half). */
#define CAPOS_USER_LIMIT 0x0000800000000000ull

#endif
