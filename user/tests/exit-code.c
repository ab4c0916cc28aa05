/* QEMU test program: prints and exits with code 3 (a failure). */
#include "capos_rt.h"

int main(void)
{
    capos_printf("exit-code: pid %u exiting with 3\n", capos_pid());
    return 3;
}
