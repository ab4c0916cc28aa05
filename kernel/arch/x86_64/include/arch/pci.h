/*
 * PCI configuration space access, as the architecture provides it. On
 * x86_64: configuration mechanism 1 (ports 0xcf8/0xcfc), which reaches
 * the first 256 bytes of every function on segment 0 and needs no
 * mapping. Generic code (kernel/pci.c) enumerates through these.
 */
#ifndef CAPOS_ARCH_PCI_H
#define CAPOS_ARCH_PCI_H

#include <stdint.h>

/* off: 4-byte aligned, below 256; bus/dev/fn in range (dev < 32, fn < 8). */
uint32_t arch_pci_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
void arch_pci_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);

#endif
