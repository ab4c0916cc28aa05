/*
 * Device register windows: physical ranges mapped uncached into the
 * kernel's MMIO region, for drivers. Mappings are never taken down (the
 * devices live as long as the kernel).
 */
#ifndef CAPOS_MMIO_H
#define CAPOS_MMIO_H

#include <stdint.h>

/* Map [pa, pa + len) uncached and writable; the kernel address of pa, or
 * NULL if the region is full or page tables cannot be had. */
volatile void *mmio_map(uint64_t pa, uint64_t len);

#endif
