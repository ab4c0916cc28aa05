/*
 * x86_64 CPU primitives: port I/O, control registers, MSRs, CPUID.
 * Generic kernel code includes only arch/ headers, never this directory's
 * C files, so everything here is inline and tiny.
 */
#ifndef CAPOS_ARCH_CPU_H
#define CAPOS_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n)                                                                               \
    static inline uint64_t read_cr##n(void)                                                        \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }                                                                                              \
    static inline void write_cr##n(uint64_t v)                                                     \
    {                                                                                              \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                                 \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void cpu_enable_interrupts(void)
{
    __asm__ volatile("sti" ::: "memory");
}

static inline void cpu_disable_interrupts(void)
{
    __asm__ volatile("cli" ::: "memory");
}

/* Enable interrupts and wait for one, atomically (sti's one-instruction
 * shadow covers the hlt, so a wakeup cannot slip in between). */
static inline void cpu_wait_for_interrupt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

static inline void cpu_pause(void)
{
    __asm__ volatile("pause");
}

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#define MSR_APIC_BASE 0x1b
#define MSR_EFER      0xc0000080

#define CR0_WP   (1ull << 16)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PGE  (1ull << 7)
#define EFER_NXE (1ull << 11)

/* Features the kernel cares about, read once by cpu_detect(). */
struct cpu_features {
    bool nx, smep, smap, apic, rdrand, rdseed, pdpe1gb, invariant_tsc;
    char vendor[13];
};

extern struct cpu_features cpu_features;
void cpu_detect(void);
/* Turn on WP, NXE, SMEP and SMAP as far as the CPU supports them. */
void cpu_enable_protections(void);

#endif
