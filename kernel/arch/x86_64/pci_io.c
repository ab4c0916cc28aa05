/*
 * PCI configuration mechanism 1 (PCI Local Bus 3.0, 3.2.2.3.2): write the
 * function's address to 0xcf8, move the dword through 0xcfc. The two
 * accesses must not be split by another configuration access; the kernel
 * runs them with interrupts off on one CPU, so nothing can.
 */
#include <arch/cpu.h>
#include <arch/pci.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void select(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    outl(PCI_CONFIG_ADDRESS, 1u << 31 | (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 |
                                 (uint32_t)(fn & 7) << 8 | (off & 0xfc));
}

uint32_t arch_pci_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    select(bus, dev, fn, off);
    return inl(PCI_CONFIG_DATA);
}

void arch_pci_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    select(bus, dev, fn, off);
    outl(PCI_CONFIG_DATA, v);
}
