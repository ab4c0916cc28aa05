/*
 * Shared by the capnpc-c host tests: one value of tests/capnpc/test.capnp's
 * All, as a text literal for the official tool (FULL_TEXT), built with the
 * generated builders (build_full) and checked with the generated readers
 * (check_full). The three must describe the same value. The functions are
 * in testgen.c: Criterion's assertions are large, so they are compiled once.
 */
#ifndef CAPOS_TESTS_CAPNPC_TESTGEN_H
#define CAPOS_TESTS_CAPNPC_TESTGEN_H

#include <criterion/criterion.h>
#include <string.h>

#include "capnp/capnp.h"
#include "test.capnp.h"

#define SCHEMA "tests/capnpc/test.capnp"

#define FULL_TEXT                                                                                  \
    "(b = true, i8 = -12, i16 = -1234, i32 = -123456, i64 = -1234567890123,"                       \
    " u8 = 200, u16 = 60000, u32 = 4000000000, u64 = 18000000000000000000,"                        \
    " f32 = 1.5, f64 = -2.25, text = \"hello world\", data = 0x\"deadbeef\","                      \
    " inner = (a = 42, s = \"inner\", color = blue), color = green, v = void,"                     \
    " bools = [true, false, true, true, false, false, false, false, true],"                        \
    " i8s = [-1, 0, 127, -128], u16s = [1, 65535], i32s = [-7, 7],"                                \
    " u64s = [0, 18446744073709551615], f32s = [0.5, -1], f64s = [3.25],"                          \
    " texts = [\"a\", \"\", \"ccc\"], datas = [0x\"00\", \"\"],"                                   \
    " inners = [(a = 1, s = \"one\"), (a = 2), (s = \"three\", color = red)],"                     \
    " colors = [blue, red], voids = [void, void], nested = [[1, 2], [], [3]],"                     \
    " nestedInners = [[(a = 5)], [(a = 6), (a = 7)]], deep = [[[\"x\"], []], [[\"y\", \"z\"]]],"   \
    " str = \"union text\", grp = (ga = 11, gb = \"gb\", gy = true, sub = (deep = 99)),"           \
    " choice = (third = [1, -1]),"                                                                 \
    " dBool = false, dI8 = 8, dI16 = 16, dI32 = 32, dI64 = 64, dU8 = 8, dU16 = 16, dU32 = 32,"     \
    " dU64 = 64, dF32 = -3.5, dF64 = 0.001, dText = \"changed\", dData = \"\","                    \
    " dInner = (a = 70), dColor = red, dI32s = [], dTexts = [\"z\"], dInners = [],"                \
    " dBools = [false], dNested = [[9]], dI64Min = 5, dI32Min = 6,"                                \
    " self = (u32 = 7, text = \"child\", self = (u32 = 8)),"                                       \
    " outer = (n = (kind = two), kinds = [one, two, one]))"

void build_full(All_b b);
void check_full(All_r r);
/* Every default of All, as read from a message that sets nothing. */
void check_defaults(All_r r);
void expect_text(struct capn_text t, const char *s);
void expect_inner(Inner_r in, uint32_t a, const char *s, Color color);

#endif
