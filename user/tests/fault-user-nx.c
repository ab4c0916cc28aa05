/*
 * QEMU test program: jumping into data. The image's data pages are mapped
 * no-execute (W^X), so the call faults on the instruction fetch, and the
 * kernel must report it as one (not as a read), then end only this process.
 */
#include "capos_rt.h"

/* A `ret`, in .data: would return at once if data were executable. */
static volatile uint8_t code_in_data[16] = {0xc3};

int main(void)
{
    void (*f)(void) = (void (*)(void))(uintptr_t)code_in_data;
    f();
    return 0; /* never reached */
}
