/* 16550 UART on COM1, polled output, 115200 8N1. */
#include <arch/cpu.h>
#include <arch/platform.h>

#include "lapic.h"

#define COM1           0x3f8
#define REG_DATA       0
#define REG_IER        1
#define REG_FCR        2
#define REG_LCR        3
#define REG_MCR        4
#define REG_LSR        5
#define REG_SCRATCH    7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define IER_RX_DATA    0x01
#define MCR_OUT2       0x08 /* gates the UART's interrupt line on PC hardware */

static bool present;

void arch_console_init(void)
{
    /* A missing UART reads back 0xff; the scratch register tells us
     * whether anything is there before we wait on its status bits. */
    outb(COM1 + REG_SCRATCH, 0x5a);
    if (inb(COM1 + REG_SCRATCH) != 0x5a)
        return;
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, 0x80); /* DLAB: next two writes are the divisor */
    outb(COM1 + REG_DATA, 1);   /* 115200 baud */
    outb(COM1 + REG_IER, 0);
    outb(COM1 + REG_LCR, 0x03); /* 8N1 */
    outb(COM1 + REG_FCR, 0xc7); /* FIFOs on and cleared */
    outb(COM1 + REG_MCR, 0x03); /* DTR, RTS */
    present = true;
}

void arch_console_putc(char c)
{
    if (!present)
        return;
    /* Terminals want CR LF; text that already has it keeps it. */
    static char last;
    if (c == '\n' && last != '\r')
        arch_console_putc('\r');
    last = c;
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(COM1 + REG_LSR) & LSR_THR_EMPTY); i++)
        cpu_pause();
    outb(COM1 + REG_DATA, (uint8_t)c);
}

void arch_console_rx_start(void)
{
    if (!present)
        return;
    outb(COM1 + REG_MCR, 0x03 | MCR_OUT2);
    outb(COM1 + REG_IER, IER_RX_DATA);
    pic_unmask(IRQ_COM1);
    /* Bytes that arrived before now raised no interrupt: take them. */
    serial_rx_interrupt();
}

void arch_console_rx_pause(bool paused)
{
    /* Enabling the interrupt while data waits raises it at once, so
     * resuming needs nothing more. */
    if (present)
        outb(COM1 + REG_IER, paused ? 0 : IER_RX_DATA);
}

void serial_rx_interrupt(void)
{
    /* Drain the FIFO (16 bytes) and a little more; bounded, so a UART
     * that always says "ready" cannot hold the CPU. A byte is read only
     * when the terminal can take it. */
    for (int i = 0; i < 64 && console_rx_room() && (inb(COM1 + REG_LSR) & LSR_DATA_READY); i++)
        if (!console_rx(inb(COM1 + REG_DATA)))
            return;
}
