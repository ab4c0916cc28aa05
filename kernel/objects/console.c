/* Console: the kernel's serial console as a capability. */
#include "registry.h"

#include <arch/platform.h>

#include "kcall.h"
#include "kobject.h"

static void put_text(struct capn_text t)
{
    /* Bytes go out as they are; the UART does not care about encoding. */
    for (uint32_t i = 0; i < t.len; i++)
        arch_console_putc(t.str[i]);
}

static int console_write(void *self, Console_write_Params_r params, Console_write_Results_b results,
                         void *ctx)
{
    struct capn_text t = Console_write_Params_get_text(params);
    put_text(t);
    return CAPNPC_OK;
}

static int console_write_line(void *self, Console_writeLine_Params_r params,
                              Console_writeLine_Results_b results, void *ctx)
{
    struct capn_text t = Console_writeLine_Params_get_text(params);
    put_text(t);
    arch_console_putc('\n');
    return CAPNPC_OK;
}

static const struct Console_ops console_ops = {
    .write = console_write,
    .writeLine = console_write_line,
};

KOBJECT_TYPE(console_type, Console, console_ops);

/* One console for everyone. */
KOBJECT_SINGLETON(console, console, Console, console_type);
