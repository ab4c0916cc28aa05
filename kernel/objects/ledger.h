/* FrameLedger, and the MemoryUsage of an account (ledger.c). */
#ifndef CAPOS_OBJECTS_LEDGER_H
#define CAPOS_OBJECTS_LEDGER_H

#include "capos.capnp.h"
#include "kcore/frame_ledger.h"

/* Fill u from an account of the frame ledger. */
void memory_usage_set(MemoryUsage_b u, const struct frame_account *f);

#endif
