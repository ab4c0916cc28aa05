/* Power: halting the machine, for whoever was given the right to. */
#include <arch/platform.h>

#include "kcall.h"
#include "kobject.h"
#include "kprintf.h"
#include "process.h"
#include "registry.h"

static int power_shutdown(void *self, Power_shutdown_Params_r params,
                          Power_shutdown_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    kprintf("capOS: shutdown requested by %s (pid %u); halting\n", kc->caller->name,
            kc->caller->pid);
    arch_halt(HALT_SUCCESS);
}

static const struct Power_ops power_ops = {.shutdown = power_shutdown};

KOBJECT_TYPE(power_type, Power, power_ops);

KOBJECT_SINGLETON(power, power, Power, power_type);
