/* User threads in their process (thread.h). */
#include "thread.h"

#include <capos/layout.h>
#include <capos/tcb.h>

#include "kcore/elf64.h"
#include "kcore/tls_layout.h"
#include "kprintf.h"
#include "memory.h"
#include "process.h"
#include "registry.h"
#include "usercopy.h"

static uint64_t ring_address(uint32_t slot)
{
    return slot ? CAPOS_USER_THREAD_RINGS + (uint64_t)slot * PAGE_SIZE : CAPOS_USER_RING_ADDR;
}

/* Map the ring page of `slot` and give it to t. */
static bool ring_attach(struct process *p, struct thread *t, uint32_t slot)
{
    uint64_t va = ring_address(slot), pa;
    uint32_t flags;
    if (!process_map_anon(p, va, VM_WRITE))
        return false;
    vmspace_translate(&p->vm, va, &pa, &flags);
    t->ring_va = va;
    t->ring = phys_to_virt(pa);
    ring_init(t->ring, &t->ring_state);
    t->slot = slot;
    return true;
}

/* Link a new thread into p. */
static void link_thread(struct process *p, struct thread *t)
{
    t->proc_next = p->threads;
    p->threads = t;
    p->nthreads++;
    p->slots_used |= 1ull << t->slot;
}

static void unlink_thread(struct process *p, struct thread *t)
{
    for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next) {
        if (*pp == t) {
            *pp = t->proc_next;
            break;
        }
    }
    t->proc_next = 0;
    p->nthreads--;
    p->slots_used &= ~(1ull << t->slot);
}

/*
 * The main thread's TCB page at CAPOS_USER_TLS_TCB and its TLS block right
 * below (include/capos/tcb.h), so that every program has a working thread
 * pointer from its first instruction, capabilities or not.
 */
static bool build_main_tls(struct process *p, const struct elf64_tls *tls, const void *image)
{
    struct capos_tcb tcb = {.self = (struct capos_tcb *)CAPOS_USER_TLS_TCB};
    if (tls) {
        tcb.tls_image = tls->vaddr;
        tcb.tls_filesz = tls->filesz;
        tcb.tls_memsz = tls->memsz;
        tcb.tls_align = tls->align;
        tcb.tls_block_size = tls_block_size(tls->memsz, tls->align);
    }
    uint64_t block = CAPOS_USER_TLS_TCB - tcb.tls_block_size;
    for (uint64_t va = block & ~(PAGE_SIZE - 1); va <= CAPOS_USER_TLS_TCB; va += PAGE_SIZE)
        if (!process_map_anon(p, va, VM_WRITE))
            return false;
    /* Fresh pages are zeroed: only .tdata and the TCB need writing. */
    if (tls && tls->filesz &&
        copy_to_user_any(p, block, (const uint8_t *)image + tls->offset, tls->filesz) != 0)
        return false;
    return copy_to_user_any(p, CAPOS_USER_TLS_TCB, &tcb, sizeof(tcb)) == 0;
}

bool thread_create_main(struct process *p, uint64_t entry, const struct elf64_tls *tls,
                        const void *image)
{
    if (!build_main_tls(p, tls, image))
        return false;
    struct thread *t = thread_create_user(p, entry, CAPOS_USER_STACK_TOP, CAPOS_USER_RING_ADDR,
                                          p->pid, CAPOS_USER_CAPSET_ADDR);
    if (!t)
        return false;
    if (!ring_attach(p, t, 0)) {
        sched_discard(t);
        return false;
    }
    arch_thread_set_tls(&t->arch, CAPOS_USER_TLS_TCB, 0);
    link_thread(p, t);
    p->main_thread = t;
    return true;
}

void thread_start_running(struct thread *t)
{
    sched_start(t);
}

struct thread *thread_spawn(struct process *p, const struct thread_start *s, const char **why)
{
    if (p->nthreads >= CAPOS_MAX_THREADS) {
        *why = "the process already has its maximum of threads";
        return 0;
    }
    uint32_t slot = (uint32_t)__builtin_ctzll(~p->slots_used);
    *why = "your frame quota cannot pay for another thread";
    struct thread *t = thread_create_user(p, s->entry, s->stack_top, ring_address(slot), s->arg, 0);
    if (!t)
        return 0;
    if (!ring_attach(p, t, slot)) {
        sched_discard(t);
        return 0;
    }
    arch_thread_set_tls(&t->arch, s->tls_base, 0);
    link_thread(p, t);
    sched_start(t);
    return t;
}

/* What every ending thread lets go of while its process is still whole. */
static void thread_finish(struct process *p, struct thread *t, int32_t code)
{
    t->exit_code = code;
    pending_calls_abandon(t, p);
    registry_thread_exit(t);
}

void thread_exit_current(int32_t code)
{
    struct thread *t = thread_current();
    struct process *p = t->process;
    if (p->nthreads == 1)
        process_exit_current(code);
    thread_finish(p, t, code);
    unlink_thread(p, t);
    if (p->main_thread == t)
        p->main_thread = 0;
    /* Its ring goes: nothing can post to it now (its calls are abandoned). */
    process_unmap_anon(p, t->ring_va);
    t->ring = 0;
    sched_exit_thread();
}

void thread_end_all(struct process *p, struct thread *self)
{
    for (struct thread *t = p->threads, *next; t; t = next) {
        next = t->proc_next;
        if (t == self)
            continue;
        if (t->state == THREAD_RUNNING) {
            /* On another CPU (in user mode, or waiting for the kernel
             * lock): it leaves at its next kernel exit, which the kick
             * makes soon (thread_leave_exiting). */
            sched_kick_running(t);
            continue;
        }
        thread_finish(p, t, p->exit_code);
        unlink_thread(p, t);
        sched_discard(t);
    }
    thread_leave_exiting(p, self);
    p->main_thread = 0;
}

void thread_leave_exiting(struct process *p, struct thread *self)
{
    thread_finish(p, self, p->exit_code);
    unlink_thread(p, self);
}

void thread_wake_all(struct process *p)
{
    for (struct thread *t = p->threads; t; t = t->proc_next) {
        if (t->cap_enter_waiting)
            sched_wake(t);
        sched_kick_running(t);
    }
}

bool thread_cap_enter_needs_more(struct thread *t)
{
    uint32_t events = 0;
    return ring_cq_ready(t->ring, &t->ring_state, &events) + 1 < t->cap_enter_min;
}

void thread_notify_completion(struct thread *t, bool handoff)
{
    if (!t->cap_enter_waiting)
        return;
    /* A completion was just posted: a waiter for one (the usual IPC
     * caller) need not count the CQ. */
    uint32_t events = 0;
    if (t->cap_enter_min > 1 && ring_cq_ready(t->ring, &t->ring_state, &events) < t->cap_enter_min)
        return;
    if (handoff)
        sched_wake_next(t);
    else
        sched_wake(t);
}
