/*
 * What each ring opcode allows: one row per opcode (io_uring's opdef.c
 * style), the only place that says which SQE fields an opcode uses, which
 * flags it takes, and how the kernel may run it. lib/kcore/ring.c validates
 * SQEs from it, kernel/ringops.c decides from it what the timer may run
 * and which capabilities must be owner sides; the kernel's table of issue
 * functions (kernel/ringops.c) is the only other per-opcode place.
 *
 * Adding an opcode: its number in include/capos/ring.h (before
 * CAPOS_OP_COUNT), a row in lib/kcore/ring_opdef.c, an issue function in
 * kernel/ringops.c (docs/abi.md, "Adding a ring opcode").
 */
#ifndef CAPOS_LIB_RING_OPDEF_H
#define CAPOS_LIB_RING_OPDEF_H

#include <stdbool.h>
#include <stdint.h>

#include <capos/ring.h>

/* SQE fields an opcode may use (struct ring_opdef.uses, .required). A
 * buffer's address and length go together. user_data is every opcode's;
 * reserved is none's. */
#define RING_F_METHOD    (1u << 0) /* method */
#define RING_F_CAP       (1u << 1) /* cap */
#define RING_F_INTERFACE (1u << 2) /* interface_id (CANCEL: target_user_data, the same word) */
#define RING_F_PARAMS    (1u << 3) /* params_addr, params_len */
#define RING_F_RESULT    (1u << 4) /* result_addr, result_len */
#define RING_F_CALL_ID   (1u << 5) /* call_id */
#define RING_F_XFER      (1u << 6) /* xfer_addr, xfer_count (struct capos_xfer[]) */
#define RING_F_ALL       ((1u << 7) - 1)
/* The fields that may be required (nonzero), each with its own error:
 * interface_id 0 is CAPOS_E_WRONG_INTERFACE (no Cap'n Proto interface has
 * id 0), call_id 0 is CAPOS_E_BAD_CALL_ID (the kernel issues ids from 1). */
#define RING_F_REQUIRABLE (RING_F_INTERFACE | RING_F_CALL_ID)

/* The buffers an SQE can describe, in struct ring_opcheck's arrays. */
enum ring_buf {
    RING_BUF_PARAMS, /* params_addr, params_len bytes */
    RING_BUF_RESULT, /* result_addr, result_len bytes */
    RING_BUF_XFER,   /* xfer_addr, xfer_count struct capos_xfer */
    RING_BUF_COUNT,
};

/*
 * A row's rules in the form lib/kcore/ring.c checks them, derived from uses,
 * required and sqe_flags by the row macro in ring_opdef.c (never written by
 * hand, so they cannot disagree with the row). The SQE is seen as 8
 * uint64_t words, little-endian.
 */
struct ring_opcheck {
    /* Per word, the bits that must be 0: unused fields, reserved, and flag
     * bits the opcode does not take. Word 5 (user_data) is always 0. */
    uint64_t zero[8];
    /* Per buffer: the end of the memory it may lie in (CAPOS_USER_LIMIT if
     * the opcode uses it, else 0, which leaves only address 0) and its
     * length limit (the ABI's if used, else 0; in struct capos_xfer for
     * RING_BUF_XFER). Together they refuse a nonzero unused buffer without
     * a mask. */
    uint64_t end[RING_BUF_COUNT];
    /* 0 if interface_id (call_id) must not be 0, else 1: OR-ed into the
     * field, so that one test covers both cases. */
    uint64_t interface_optional;
    uint32_t max_len[RING_BUF_COUNT];
    uint32_t call_id_optional;
};

struct ring_opdef {
    struct ring_opcheck check; /* derived from the fields below */
    const char *name;          /* NULL: no such opcode (CAPOS_E_BAD_OPCODE) */
    /* RING_F_*: fields it reads; every other field must be 0. Each buffer
     * it uses is checked against the ABI limits and the user half. */
    uint8_t uses;
    uint8_t required;  /* RING_F_REQUIRABLE bits: fields that must not be 0 */
    uint8_t sqe_flags; /* CAPOS_SQE_F_* it accepts; any other bit is CAPOS_E_BAD_FLAGS */
    /* Defined but refused with CAPOS_E_RESERVED_OPCODE, whatever else the
     * SQE holds. */
    bool reserved;
    /* The timer may run it (ring_poll_irq): it neither blocks nor defers,
     * and needs nothing that interrupt context lacks. */
    bool irq_safe;
    /* cap must name an owner side (a CAPF_OWNER table entry), checked by
     * the kernel before the issue function runs; anything else is
     * CAPOS_E_NOT_PERMITTED. */
    bool needs_owner;
    /* A control operation (RELEASE, CANCEL): it may take the CQ slots kept
     * back from every other opcode (RING_CONTROL_SLOTS, lib/kcore/ring.h),
     * so that a ring whose CQ is full of pending calls can still release
     * and cancel. It must complete at once (never defer). */
    bool control;
    /* Derived: set by the row macro, so false for reserved opcodes and for
     * rows that do not exist. SQEs may use the opcode. */
    bool valid;
};

/* A power of two, so that finding a row is one shift. */
_Static_assert(sizeof(struct ring_opdef) == 128, "ring_opdef is 128 bytes");

/* Indexed by opcode, CAPOS_OP_COUNT rows; rows of opcodes that do not
 * exist are all zero. Declared without a size, so that the definition's
 * size comes from its rows and its static assertion means something. */
extern const struct ring_opdef ring_opdefs[];

/* The row of a valid opcode, or NULL (0, unknown, out of range). */
static inline const struct ring_opdef *ring_opdef(uint8_t opcode)
{
    return opcode < CAPOS_OP_COUNT && ring_opdefs[opcode].name ? &ring_opdefs[opcode] : 0;
}

#endif
