/*
 * arch_user_copy(dst, src, n): copy n bytes where one side is user memory of
 * the current address space, already range-checked by the caller. Returns
 * 0, or 1 if a page fault stopped it (unmapped, or not writable): the
 * page-fault handler sees RIP inside this routine and resumes at
 * arch_user_copy_fault instead of reporting a kernel fault. SMAP is lifted
 * (stac) only for the copy itself.
 *
 * stac and clac exist only on CPUs with SMAP. Rather than test for it on
 * every copy (two loads and branches each time), their sites are listed in
 * arch_smap_sites and overwritten with a 3-byte no-op at boot on a CPU
 * without it (cpu.c, before the kernel text becomes read-only).
 *
 * "The current address space" is the one CR3 holds, which for a moment
 * after a switch is still the previous thread's (paging.c): callers ask
 * vmspace_in_cr3 first (usercopy.h), not process_current().
 */

    .section .text.hot, "ax" /* kernel/hotpath.h */
    .globl arch_user_copy, arch_user_copy_end, arch_user_copy_fault
arch_user_copy:
.Lstac:
    stac
    mov %rdx, %rcx
    shr $3, %rcx
    rep movsq
    mov %rdx, %rcx
    and $7, %rcx
    rep movsb
.Lclac_done:
    clac
    xor %eax, %eax
    ret

/* arch_user_load32(dst, src): the 4-byte word at src (user memory, range
 * checked, 4-byte aligned) to dst; 0, or 1 on a fault, as above. A futex
 * word's check (ParkSpace) in 5 instructions rather than a copy's 14. */
    .globl arch_user_load32
arch_user_load32:
.Lstac32:
    stac
    mov (%rsi), %eax
    mov %eax, (%rdi)
.Lclac32:
    clac
    xor %eax, %eax
    ret
arch_user_copy_fault:
.Lclac_fault:
    clac
    mov $1, %eax
    ret
arch_user_copy_end:

    .section .rodata
    .balign 8
    .globl arch_smap_sites, arch_smap_sites_end
arch_smap_sites:
    .quad .Lstac, .Lclac_done, .Lclac_fault, .Lstac32, .Lclac32
arch_smap_sites_end:

    .section .note.GNU-stack, "", @progbits
