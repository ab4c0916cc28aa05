/*
 * The ring opcode table (ring_opdef.h). One row per opcode; docs/abi.md's
 * SQE table is this table in prose.
 */
#include "kcore/ring_opdef.h"

#include <capos/layout.h>

#define SQE_OFF(f)  __builtin_offsetof(struct capos_sqe, f)
#define SQE_SIZE(f) sizeof(((struct capos_sqe *)0)->f)
/* Field f's bits within its 64-bit word (little-endian, and no field
 * straddles two words: both asserted below). */
#define SQE_BITS(f) ((~0ull >> (64 - 8 * SQE_SIZE(f))) << (8 * (SQE_OFF(f) % 8)))
/* Field f's bits if it lies in word w and must be 0, else none. */
#define ZERO_IF(w, f, must_be_zero) (SQE_OFF(f) / 8 == (w) && (must_be_zero) ? SQE_BITS(f) : 0)
/* The flag bits of word w that an opcode accepting `accepted` refuses. */
#define ZERO_FLAGS(w, accepted)                                                                    \
    (SQE_OFF(flags) / 8 == (w) ? (uint64_t)(uint8_t) ~(accepted) << (8 * (SQE_OFF(flags) % 8)) : 0)
#define USED(uses, bit) (((uses) & (bit)) != 0)
#define ZERO_WORD(w, uses, accepted)                                                               \
    (ZERO_FLAGS(w, accepted) | ZERO_IF(w, method, !USED(uses, RING_F_METHOD)) |                    \
     ZERO_IF(w, cap, !USED(uses, RING_F_CAP)) |                                                    \
     ZERO_IF(w, interface_id, !USED(uses, RING_F_INTERFACE)) |                                     \
     ZERO_IF(w, params_addr, !USED(uses, RING_F_PARAMS)) |                                         \
     ZERO_IF(w, params_len, !USED(uses, RING_F_PARAMS)) |                                          \
     ZERO_IF(w, result_len, !USED(uses, RING_F_RESULT)) |                                          \
     ZERO_IF(w, result_addr, !USED(uses, RING_F_RESULT)) |                                         \
     ZERO_IF(w, call_id, !USED(uses, RING_F_CALL_ID)) |                                            \
     ZERO_IF(w, xfer_count, !USED(uses, RING_F_XFER)) |                                            \
     ZERO_IF(w, xfer_addr, !USED(uses, RING_F_XFER)) | ZERO_IF(w, reserved, true))

/* A row: the fields it uses, the flags it accepts, the fields it requires,
 * then the rest by name. The check lib/kcore/ring.c runs is derived here, so it
 * cannot disagree with the row. */
#define OPDEF(uses_, flags_, required_, ...)                                                       \
    {                                                                                              \
        .uses = (uses_), .sqe_flags = (flags_), .required = (required_), .valid = true,            \
        .check =                                                                                   \
            {                                                                                      \
                .zero = {ZERO_WORD(0, uses_, flags_), ZERO_WORD(1, uses_, flags_),                 \
                         ZERO_WORD(2, uses_, flags_), ZERO_WORD(3, uses_, flags_),                 \
                         ZERO_WORD(4, uses_, flags_), ZERO_WORD(5, uses_, flags_),                 \
                         ZERO_WORD(6, uses_, flags_), ZERO_WORD(7, uses_, flags_)},                \
                .max_len = {USED(uses_, RING_F_PARAMS) ? CAPOS_MAX_PARAMS_LEN : 0,                 \
                            USED(uses_, RING_F_RESULT) ? CAPOS_MAX_RESULT_LEN : 0,                 \
                            USED(uses_, RING_F_XFER) ? CAPOS_MAX_XFER : 0},                        \
                .end = {USED(uses_, RING_F_PARAMS) ? CAPOS_USER_LIMIT : 0,                         \
                        USED(uses_, RING_F_RESULT) ? CAPOS_USER_LIMIT : 0,                         \
                        USED(uses_, RING_F_XFER) ? CAPOS_USER_LIMIT : 0},                          \
                .interface_optional = !USED(required_, RING_F_INTERFACE),                          \
                .call_id_optional = !USED(required_, RING_F_CALL_ID),                              \
            },                                                                                     \
        __VA_ARGS__                                                                                \
    }

const struct ring_opdef ring_opdefs[] = {
    /* Completes at once with result 0 (inside ring_process; nothing else
     * ever sees a NOP). */
    [CAPOS_OP_NOP] = OPDEF(0, 0, 0, .name = "NOP", .irq_safe = true),
    /* A method call on cap: Cap'n Proto params in, results (or a
     * CapException) out, capabilities both ways. */
    [CAPOS_OP_CALL] = OPDEF(RING_F_METHOD | RING_F_CAP | RING_F_INTERFACE | RING_F_PARAMS |
                                RING_F_RESULT | RING_F_XFER,
                            CAPOS_SQE_F_XFER_INLINE, RING_F_INTERFACE, .name = "CALL"),
    /* Wait for a CALL on the endpoint cap owns; the call lands in the
     * result buffer. With CAPOS_SQE_F_CLIENTS_GONE it may instead report
     * that no client reference is left. */
    [CAPOS_OP_RECV] = OPDEF(RING_F_CAP | RING_F_RESULT, CAPOS_SQE_F_CLIENTS_GONE, 0, .name = "RECV",
                            .needs_owner = true),
    /* Answer call_id, received through the endpoint cap owns: the results
     * (or, with CAPOS_SQE_F_EXCEPTION, a CapException) are the params. */
    [CAPOS_OP_RETURN] =
        OPDEF(RING_F_CAP | RING_F_PARAMS | RING_F_CALL_ID | RING_F_XFER,
              CAPOS_SQE_F_EXCEPTION | CAPOS_SQE_F_XFER_INLINE, RING_F_CALL_ID, .name = "RETURN",
              .needs_owner = true),
    /* Drop the capability-table slot cap. Never blocks; freeing the object
     * it held is safe from the timer, which only interrupts user mode. */
    [CAPOS_OP_RELEASE] =
        OPDEF(RING_F_CAP, 0, 0, .name = "RELEASE", .irq_safe = true, .control = true),
    /* Reserved (valid stays false). */
    [CAPOS_OP_FINISH] = {.name = "FINISH", .reserved = true},
    /* Complete this process's pending CALL or RECV whose user_data is
     * target_user_data (the interface_id word) with CAPOS_E_CANCELLED. Any
     * value may be a user_data, 0 included, so the field is not required. */
    [CAPOS_OP_CANCEL] = OPDEF(RING_F_INTERFACE, 0, 0, .name = "CANCEL", .control = true),
    /* RETURN call_id (params, transfers and flags as RETURN), then, if that
     * succeeded, RECV into the result buffer (as RECV, CLIENTS_GONE
     * included). One CQE: the RECV's, or the RETURN's error with
     * CAPOS_CQE_F_RETURN_FAILED. */
    [CAPOS_OP_RETURN_RECV] =
        OPDEF(RING_F_CAP | RING_F_PARAMS | RING_F_RESULT | RING_F_CALL_ID | RING_F_XFER,
              CAPOS_SQE_F_EXCEPTION | CAPOS_SQE_F_XFER_INLINE | CAPOS_SQE_F_CLIENTS_GONE,
              RING_F_CALL_ID, .name = "RETURN_RECV", .needs_owner = true),
};

/* Sized by its last row: an opcode added to include/capos/ring.h without
 * a row here does not compile. (A row missing in the middle is caught by
 * host-ring, which wants a name in every row.) */
_Static_assert(sizeof ring_opdefs / sizeof ring_opdefs[0] == CAPOS_OP_COUNT,
               "one row per opcode of include/capos/ring.h");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "SQE_BITS assumes little-endian");
#define FITS(f) (SQE_OFF(f) % 8 + SQE_SIZE(f) <= 8)
_Static_assert(FITS(opcode) && FITS(flags) && FITS(method) && FITS(cap) && FITS(interface_id) &&
                   FITS(params_addr) && FITS(params_len) && FITS(result_len) && FITS(result_addr) &&
                   FITS(user_data) && FITS(call_id) && FITS(xfer_count) && FITS(reserved) &&
                   FITS(xfer_addr),
               "no SQE field straddles two words");
