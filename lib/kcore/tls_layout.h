/*
 * Where a thread's TLS block and thread control block go (x86-64 TLS
 * variant II, docs/threads.md): the TCB at the thread pointer, the block
 * of the PT_TLS segment right below it. Pure arithmetic shared by the
 * kernel (the main thread's, at a fixed address) and the runtime (every
 * other thread's, in a heap block), so both lay blocks out the same way.
 */
#ifndef CAPOS_LIB_TLS_LAYOUT_H
#define CAPOS_LIB_TLS_LAYOUT_H

#include <stdint.h>

/* The TCB's own alignment: it holds pointers and 64-bit words. */
#define TLS_TCB_ALIGN 16u

/* The block's size: memsz rounded up to the segment's alignment (a power
 * of two, as the ELF parser checked), so that the thread pointer, aligned
 * to at least that, leaves the block aligned too. */
static inline uint64_t tls_block_size(uint64_t memsz, uint64_t align)
{
    if (align < 1)
        align = 1;
    return (memsz + align - 1) & ~(align - 1);
}

/* The alignment of the thread pointer. */
static inline uint64_t tls_tp_align(uint64_t align)
{
    return align > TLS_TCB_ALIGN ? align : TLS_TCB_ALIGN;
}

/* The thread pointer for an area starting at `base` whose block is
 * block_size bytes: the lowest suitably aligned address with the whole
 * block above base. The area must hold tls_area_size() bytes from base. */
static inline uint64_t tls_place(uint64_t base, uint64_t block_size, uint64_t align)
{
    uint64_t a = tls_tp_align(align);
    return (base + block_size + a - 1) & ~(a - 1);
}

/* Bytes an area needs for any base: block, worst-case alignment padding
 * and a TCB of tcb_size bytes. */
static inline uint64_t tls_area_size(uint64_t block_size, uint64_t align, uint64_t tcb_size)
{
    return block_size + tls_tp_align(align) - 1 + tcb_size;
}

#endif
