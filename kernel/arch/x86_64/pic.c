/* Legacy 8259 PIC pair and 8254 PIT. */
#include <arch/cpu.h>
#include <arch/trap.h>

#include "lapic.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

static uint16_t pic_mask = 0xffff;

static void io_wait(void)
{
    outb(0x80, 0); /* an unused port: a short delay between PIC writes */
}

void pic_init(void)
{
    /* Remap so that IRQs 0-15 cannot be mistaken for CPU exceptions
     * 0-15, then mask everything: the LAPIC timer drives scheduling. */
    outb(PIC1_CMD, 0x11); /* ICW1: init, ICW4 follows */
    io_wait();
    outb(PIC2_CMD, 0x11);
    io_wait();
    outb(PIC1_DATA, VEC_PIC_BASE); /* ICW2: vector offsets */
    io_wait();
    outb(PIC2_DATA, VEC_PIC_BASE + 8);
    io_wait();
    outb(PIC1_DATA, 4); /* ICW3: slave on IRQ 2 */
    io_wait();
    outb(PIC2_DATA, 2);
    io_wait();
    outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
    io_wait();
    outb(PIC2_DATA, 0x01);
    io_wait();
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(int irq)
{
    pic_mask &= (uint16_t) ~(1u << irq);
    if (irq >= 8)
        pic_mask &= (uint16_t) ~(1u << 2); /* the cascade line */
    outb(PIC1_DATA, pic_mask & 0xff);
    outb(PIC2_DATA, pic_mask >> 8);
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

bool pit_oneshot_wait(uint16_t pit_counts)
{
    /* Channel 2's gate is bit 0 of port 0x61 and its output reads back
     * as bit 5; bit 1 (speaker) stays off. */
    uint8_t ctl = (inb(0x61) & ~0x02) & ~0x01;
    outb(0x61, ctl);
    outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(0x42, pit_counts & 0xff);
    outb(0x42, pit_counts >> 8);
    outb(0x61, ctl | 0x01); /* raise the gate: counting starts */
    /* A 16-bit count at 1.19 MHz takes at most 55 ms; each port read
     * takes far longer than a nanosecond, so this bound is ample. */
    for (uint32_t i = 0; i < 20000000u; i++)
        if (inb(0x61) & 0x20)
            return true;
    return false;
}

void pit_periodic(uint32_t hz)
{
    uint32_t div = PIT_HZ / hz;
    outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, div & 0xff);
    outb(0x40, (div >> 8) & 0xff);
}
