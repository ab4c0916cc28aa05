/* The check line of the QEMU test programs: "ok: ..." or "FAILED: ...",
 * counted in `failures` (which the program returns as its exit code). */
#ifndef CAPOS_TESTS_CHECK_H
#define CAPOS_TESTS_CHECK_H

#include "capos_rt.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        bool ok_ = (cond);                                                                         \
        capos_printf(ok_ ? "ok: " : "FAILED: ");                                                   \
        capos_printf(__VA_ARGS__);                                                                 \
        capos_printf("\n");                                                                        \
        failures += !ok_;                                                                          \
    } while (0)

#endif
