/* Interrupt controllers and timers private to kernel/arch/x86_64/. */
#ifndef CAPOS_ARCH_X86_LAPIC_H
#define CAPOS_ARCH_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Legacy 8259 PIC: remapped to VEC_PIC_BASE and fully masked. */
void pic_init(void);
void pic_unmask(int irq);
void pic_eoi(int irq);

/* Local APIC. lapic_init maps its registers and enables it. */
bool lapic_init(void);
void lapic_enable_this_cpu(void);
/* Whether lapic_init mapped and enabled one (a CPU may have none). */
bool lapic_present(void);
void lapic_eoi(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);

#define LAPIC_ID            0x020
#define LAPIC_EOI           0x0b0
#define LAPIC_SPURIOUS      0x0f0
#define LAPIC_LVT_TIMER     0x320
#define LAPIC_TIMER_INIT    0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3e0

/* COM1's receive interrupt (serial.c): drain what arrived. */
void serial_rx_interrupt(void);
#define IRQ_COM1 4

/* PIT (8254) input clock. */
#define PIT_HZ 1193182u

/*
 * Busy-wait on PIT channel 2 for `pit_counts` input clocks (one-shot, gate
 * driven through port 0x61). Returns false if the PIT never signalled
 * within a generous bound, i.e. there is no working PIT.
 */
bool pit_oneshot_wait(uint16_t pit_counts);
/* Program channel 0 as a periodic rate generator at hz. */
void pit_periodic(uint32_t hz);

#endif
