/* Kernel object references (kobject.h). */
#include "kobject.h"

void kobject_unref(struct kobject *o)
{
    if (--o->refs == 0 && o->type->destroy)
        o->type->destroy(o);
}
