/* QEMU test program: 80 MiB of .bss, more than a process's frame quota
 * (64 MiB). Spawning it must fail cleanly; it never runs. */
#include "capos_rt.h"

static volatile char big[80u << 20];

int main(void)
{
    big[0] = 1;
    return big[0];
}
