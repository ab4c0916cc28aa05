/* Kernel object references (kobject.h). */
#include "kobject.h"

void kobject_unref(struct kobject *o)
{
    if (--o->refs == 0) {
        if (o->type->destroy)
            o->type->destroy(o);
    } else if (o->refs == 1 && o->type->unshared) {
        o->type->unshared(o);
    }
}
