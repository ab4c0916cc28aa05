/*
 * Timer and clock. The LAPIC timer gives the periodic tick; the TSC gives
 * the monotonic nanosecond clock. Both are calibrated in one 10 ms window
 * of PIT channel 2. Without a LAPIC (or if its calibration fails) the PIT
 * itself ticks through the legacy PIC.
 *
 * Why the TSC for the clock: reading it is one instruction, it never wraps,
 * and interpolating between ticks with the LAPIC current-count register
 * would race with the tick interrupt when interrupts are off.
 */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/platform.h>
#include <arch/trap.h>

#include "kprintf.h"
#include "lapic.h"

#define TICK_HZ                100
#define CALIBRATION_PIT_COUNTS 11932 /* 10 ms of the 1.193182 MHz PIT */
#define LAPIC_DIVIDE_16        0x3
#define LVT_MASKED             (1u << 16)
#define LVT_PERIODIC           (1u << 17)

static uint64_t tsc_hz, tsc_base, ns_mult; /* ns = (tsc - base) * mult >> 32 */
static uint64_t source_hz;
/* The LAPIC timer's input (after the /16 divider), and count per ns as a
 * 32.32 fixed-point factor; 0 in PIT mode. */
static uint64_t lapic_hz, lapic_per_ns;
static bool deadline_mode;

uint64_t arch_cycles(void)
{
    return rdtsc();
}

uint64_t arch_cycles_hz(void)
{
    return tsc_hz;
}

uint64_t arch_timer_tick_hz(void)
{
    return TICK_HZ;
}

uint64_t arch_timer_source_hz(void)
{
    return source_hz;
}

uint64_t arch_clock_ns(void)
{
    if (!ns_mult)
        return 0;
    uint64_t delta = rdtsc() - tsc_base;
    return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

static void set_tsc_hz(uint64_t hz)
{
    tsc_hz = hz;
    tsc_base = rdtsc();
    /* 1e9 << 32 still fits in 64 bits, so no 128-bit division is needed. */
    ns_mult = hz ? (1000000000ull << 32) / hz : 0;
}

/* Returns the LAPIC timer input frequency (after the /16 divider), or 0. */
static uint64_t calibrate(uint64_t *tsc_hz_out)
{
    bool have_lapic = cpu_features.apic && lapic_init();
    if (have_lapic) {
        lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_16);
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
        lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    }
    uint64_t t0 = rdtsc();
    bool pit_ok = pit_oneshot_wait(CALIBRATION_PIT_COUNTS);
    uint64_t t1 = rdtsc();
    uint32_t lapic_left = have_lapic ? lapic_read(LAPIC_TIMER_CURRENT) : 0xffffffff;
    if (!pit_ok)
        panic("timer: the PIT never counted down, so nothing can calibrate the clock");
    *tsc_hz_out = (t1 - t0) * PIT_HZ / CALIBRATION_PIT_COUNTS;
    return (uint64_t)(0xffffffffu - lapic_left) * PIT_HZ / CALIBRATION_PIT_COUNTS;
}

const char *arch_timer_init(void)
{
    uint64_t tsc;
    lapic_hz = calibrate(&tsc);
    set_tsc_hz(tsc);
    if (lapic_hz >= TICK_HZ) {
        /* (hz / 1000) << 32 fits 64 bits for any LAPIC below 4 THz. */
        lapic_per_ns = ((lapic_hz / 1000) << 32) / 1000000;
        source_hz = lapic_hz;
        lapic_write(LAPIC_TIMER_INIT, (uint32_t)(lapic_hz / TICK_HZ));
        lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_LAPIC_TIMER);
        return "lapic";
    }
    source_hz = PIT_HZ;
    pit_periodic(TICK_HZ);
    pic_unmask(0);
    return "pit";
}

bool arch_timer_deadline_mode(void)
{
    if (!lapic_per_ns)
        return false;
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INIT, 0);
    lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER); /* one-shot */
    deadline_mode = true;
    return true;
}

bool arch_timer_start_cpu(void)
{
    if (!deadline_mode)
        return false;
    /* Every local APIC of the machine runs from the same bus clock: the
     * boot CPU's calibration holds for all. */
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INIT, 0);
    lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER); /* one-shot */
    return true;
}

void arch_timer_arm(uint64_t deadline_ns)
{
    if (!deadline_mode)
        return;
    if (deadline_ns == UINT64_MAX) {
        lapic_write(LAPIC_TIMER_INIT, 0); /* stops the count: no interrupt */
        return;
    }
    uint64_t now = arch_clock_ns();
    uint64_t ns = deadline_ns > now ? deadline_ns - now : 0;
    /* Counts past 32 bits (over a minute) interrupt early and re-arm. */
    uint64_t count = ns >= (1ull << 32) ? 0xffffffffull
                                        : (uint64_t)(((unsigned __int128)ns * lapic_per_ns) >> 32);
    if (count > 0xffffffffull)
        count = 0xffffffffull;
    lapic_write(LAPIC_TIMER_INIT, count ? (uint32_t)count : 1);
}
