/*
 * A tiny freestanding static program, never run: mk/suite-elf.mk links it
 * the way user programs are linked and tests/host/test_elf64.c checks that
 * the ELF loader accepts what the toolchain produced. It has code, rodata,
 * initialised and zeroed data, and initialised and zeroed TLS, so every
 * kind of segment shows up.
 */
int counter = 3;
const char greeting[] = "hello from a user program";
char scratch[8192];
_Thread_local int tls_value = 7;
_Thread_local int tls_zero;

void _start(void);

void _start(void)
{
    for (;;) {
        counter += greeting[counter & 15] + scratch[counter & 4095] + tls_value + tls_zero++;
        __asm__ volatile("pause");
    }
}
