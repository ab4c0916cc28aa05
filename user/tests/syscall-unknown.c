/*
 * QEMU test program: system call numbers other than cap_enter and exit
 * return CAPOS_E_NO_SYSCALL to the caller and harm nothing.
 */
#include "capos_rt.h"

int main(void)
{
    static const uint64_t numbers[] = {0, 3, 60, 231, 0xffffffffull, 0x8000000000000000ull, ~0ull};
    for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        if (capos_syscall_raw(numbers[i], 1, 2) != CAPOS_E_NO_SYSCALL)
            return 10 + (int)i;
    /* The process still works afterwards. */
    return capos_nop() == 0 ? 0 : 1;
}
