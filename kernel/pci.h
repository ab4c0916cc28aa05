/*
 * PCI enumeration at boot: every function on segment 0, probed and parsed
 * by lib/pci (BARs sized, capabilities checked) through the
 * architecture's configuration access (arch/pci.h). Drivers find their
 * device here (docs/devices.md).
 */
#ifndef CAPOS_PCI_H
#define CAPOS_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci.h"

#define PCI_MAX_FUNCTIONS 32 /* kept; more are logged and left alone */

struct pci_function {
    uint8_t bus, dev, fn;
    struct pci_device info; /* parsed and checked */
};

/* Configuration access (pci_access.c): choose ECAM or the architecture's
 * mechanism, returning its name for the log; then read and write dwords
 * (off 4-aligned). Used by the scan and by pci_enable. */
const char *pci_access_init(void);
uint32_t pci_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
void pci_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);

/* Scan, probe and log every function; call once, after paging_init. */
void pci_init(void);

/* The first function with this vendor and device id that parsed cleanly,
 * or NULL. */
const struct pci_function *pci_find(uint16_t vendor, uint16_t device);

/* Whether [base, end) touches RAM the kernel uses (the direct map's
 * ranges): device windows must not. */
bool pci_overlaps_ram(uint64_t base, uint64_t end);

/* Whether a memory BAR may be mapped: assigned (base not 0) and clear of
 * RAM, so that a device (or firmware) cannot have the kernel map its own
 * memory as device registers. NULL if so, else why not. */
const char *pci_bar_refusal(const struct pci_bar *b);

/* Set bits in the function's command register (memory decoding, bus
 * mastering, INTx off). */
void pci_enable(const struct pci_function *f, uint16_t command_bits);

#endif
