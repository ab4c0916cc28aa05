/*
 * The thread control block: what a thread's FS base points at (x86-64 TLS
 * variant II: the TLS block lies right below it, and its first word points
 * to itself, so that %fs:0 is the thread pointer).
 *
 * The kernel builds the main thread's TCB and TLS block from the ELF's
 * PT_TLS segment before the process starts (at CAPOS_USER_TLS_TCB), and
 * records there where the TLS template is, so that the runtime can build
 * the blocks of the threads it creates the same way.
 */
#ifndef CAPOS_TCB_H
#define CAPOS_TCB_H

#include <stdint.h>

struct capos_tcb {
    struct capos_tcb *self; /* %fs:0 */
    /* The PT_TLS template: tls_filesz bytes at tls_image (in the loaded
     * executable), then zeroes up to tls_memsz; the block starts at
     * (char *)tcb - tls_block_size. All 0 if the program has no PT_TLS. */
    uint64_t tls_image;
    uint64_t tls_filesz;
    uint64_t tls_memsz;
    uint64_t tls_align;
    uint64_t tls_block_size; /* tls_memsz rounded up to tls_align */
    /* The runtime's own per-thread words (its thread record). */
    uint64_t rt[2];
};

#endif
