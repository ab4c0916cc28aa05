/* QEMU test program: spins in user mode forever, never entering the
 * kernel. Only ProcessHandle.kill ends it (spawn-hostile). */
#include "capos_rt.h"

int main(void)
{
    capos_printf("spin-forever: spinning\n");
    for (volatile uint64_t i = 0;; i++)
        ;
}
