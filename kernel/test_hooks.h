/*
 * CAPOS_TEST_HOOKS is 1 in test kernels (mk/kernel.mk passes
 * -DCAPOS_TEST_HOOKS=1) and 0 in the kernel that ships, where a path
 * under `if (CAPOS_TEST_HOOKS)` compiles away.
 */
#ifndef CAPOS_TEST_HOOKS_H
#define CAPOS_TEST_HOOKS_H

#ifndef CAPOS_TEST_HOOKS
#define CAPOS_TEST_HOOKS 0
#endif

#endif
