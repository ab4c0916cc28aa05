/*
 * Debug tap: one serial line of bounded metadata per SQE consumed and per
 * CQE posted (pid, opcode, capability, interface and method, result,
 * lengths). Never message contents. Compiled into test kernels only
 * (CAPOS_TEST_HOOKS) and switched on there with `tap=1` on the kernel
 * command line (`make run TAP=1`).
 */
#ifndef CAPOS_TAP_H
#define CAPOS_TAP_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

struct process;

extern bool tap_enabled;

void tap_sqe(const struct process *p, const struct capos_sqe *sqe);
void tap_cqe(const struct process *p, const struct capos_cqe *cqe);

#endif
