/*
 * QEMU test program: a user page fault ends only this process. The kernel
 * reports it and, since this was the only process, halts cleanly.
 */
#include "capos_rt.h"

int main(void)
{
    volatile uint64_t *p = (volatile uint64_t *)0x1000;
    *p = 1;   /* unmapped: below the image */
    return 0; /* never reached */
}
