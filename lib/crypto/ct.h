/*
 * Constant-time helpers for secrets: comparing a computed password tag with
 * a stored one must not reveal, through its running time, how many leading
 * bytes matched.
 */
#ifndef CAPOS_LIB_CT_H
#define CAPOS_LIB_CT_H

#include <stdbool.h>
#include <stddef.h>

/* True when a[0..n) equals b[0..n). Reads every byte of both buffers and
 * takes the same path whatever they hold: the running time depends on n
 * only. Two empty buffers are equal. */
bool ct_memeq(const void *a, const void *b, size_t n);

#endif
