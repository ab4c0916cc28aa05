/*
 * What generic kernel code may ask of the architecture. Everything
 * x86_64-specific sits behind these functions (kernel/arch/x86_64/).
 */
#ifndef CAPOS_ARCH_PLATFORM_H
#define CAPOS_ARCH_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Serial console (16550 UART on COM1). */
void arch_console_init(void);
void arch_console_putc(char c);
/* Turn on receive interrupts: from then on every byte typed on the console
 * reaches console_rx(), in interrupt context. */
void arch_console_rx_start(void);
/* Stop or resume taking bytes (flow control: while stopped, the UART and
 * the other end hold what is typed). */
void arch_console_rx_pause(bool paused);
/* Defined by generic code (kernel/objects/terminal.c): whether there is
 * room for a received byte (the driver reads one only then; a byte left in
 * the UART waits), and a received byte, returning whether it can take
 * another one now. */
bool console_rx_room(void);
bool console_rx(uint8_t byte);

/* GDT, TSS and IDT; exception reports from then on. */
void arch_cpu_init(void);
/* CPU features worth reporting at boot, as text ("nx smep smap ..."). */
const char *arch_cpu_feature_string(void);

/* The cycle counter (rdtsc). Under QEMU -icount shift=0 it counts executed
 * guest instructions. */
uint64_t arch_cycles(void);
/* The cycle counter value sampled at the very first kernel instruction. */
uint64_t arch_boot_cycles(void);

/*
 * Timer: a periodic tick plus a monotonic nanosecond clock.
 * arch_timer_init() calibrates and starts it; it returns the name of the
 * source in use ("lapic" or "pit").
 */
const char *arch_timer_init(void);
uint64_t arch_timer_tick_hz(void);
uint64_t arch_clock_ns(void);
/* Frequency found by calibration, for the boot report. */
uint64_t arch_timer_source_hz(void);

/*
 * Deadline mode: from now on the timer interrupts only when armed, once,
 * at the clock time arch_timer_arm() names (the LAPIC timer in one-shot
 * mode). False, and the periodic tick goes on, without a LAPIC timer (the
 * PIT fallback): then arming does nothing and deadlines are met on the
 * next tick.
 */
bool arch_timer_deadline_mode(void);
/* Another CPU's own timer, in the mode the boot CPU's is in (one-shot
 * deadlines, same calibration), disarmed. False if there is no such mode. */
bool arch_timer_start_cpu(void);
/* Interrupt once at clock time deadline_ns (at once if it has passed);
 * UINT64_MAX disarms. Replaces any earlier arming. */
void arch_timer_arm(uint64_t deadline_ns);
uint64_t arch_cycles_hz(void);

/* Called by the interrupt path on every timer interrupt, a tick or an
 * armed deadline (after the EOI, since it may switch threads); defined by
 * generic code (kernel/clock.c). from_user says whether user mode was
 * interrupted, i.e. whether preempting is safe. */
void timer_tick(int from_user);

void arch_interrupts_enable(void);
void arch_interrupts_disable(void);
/* Disable interrupts, returning whether they were enabled, and put them
 * back as they were: around a lock that an interrupt handler also takes. */
bool arch_interrupts_save_disable(void);
void arch_interrupts_restore(bool enabled);
/* Enable interrupts and sleep until one arrives. */
void arch_wait_for_interrupt(void);

/* Fill buf with up to len bytes from the CPU's random-number instructions
 * (RDSEED, then RDRAND); returns how many it could get (0 without them). */
size_t arch_hw_random(void *buf, size_t len);

enum halt_status {
    HALT_SUCCESS,
    HALT_FAILURE,
};

/* Stop the machine. Under QEMU the isa-debug-exit device turns the status
 * into QEMU's exit code (success 33, failure 35); elsewhere the CPU halts. */
_Noreturn void arch_halt(enum halt_status status);

/* Deliberately fault, for the exception-report tests. */
_Noreturn void arch_trigger_fault(const char *kind);

#endif
