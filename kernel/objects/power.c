/* Power: halting the machine, for whoever was given the right to. */
#include <arch/platform.h>

#include "kcall.h"
#include "kobject.h"
#include "kprintf.h"
#include "objects/objects.h"
#include "process.h"

static int power_shutdown(void *self, Power_shutdown_Params_r params,
                          Power_shutdown_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    kprintf("capOS: shutdown requested by %s (pid %u); halting\n", kc->caller->name,
            kc->caller->pid);
    arch_halt(HALT_SUCCESS);
}

static const struct Power_ops power_ops = {.shutdown = power_shutdown};

static int power_call(struct kobject *obj, struct kcall *kc)
{
    return Power_dispatch(&power_ops, obj, kc->sqe->method, &kc->params, &kc->results, kc);
}

static const struct kobject_type power_type = {
    .name = "Power",
    .iface = &Power_IFACE,
    .call = power_call,
};

static struct kobject power = {.type = &power_type, .refs = 1};

struct kobject *power_object(void)
{
    return &power;
}
