/*
 * arch_user_copy(dst, src, n): copy n bytes where one side is user memory of
 * the current address space, already range-checked by the caller. Returns
 * 0, or 1 if a page fault stopped it (unmapped, or not writable): the
 * page-fault handler sees RIP inside this routine and resumes at
 * arch_user_copy_fault instead of reporting a kernel fault. SMAP is lifted
 * (stac) only for the copy itself.
 */
    .text
    .globl arch_user_copy, arch_user_copy_end, arch_user_copy_fault
arch_user_copy:
    testb $1, smap_enabled(%rip)
    jz 1f
    stac
1:  mov %rdx, %rcx
    shr $3, %rcx
    rep movsq
    mov %rdx, %rcx
    and $7, %rcx
    rep movsb
    testb $1, smap_enabled(%rip)
    jz 2f
    clac
2:  xor %eax, %eax
    ret
arch_user_copy_fault:
    testb $1, smap_enabled(%rip)
    jz 3f
    clac
3:  mov $1, %eax
    ret
arch_user_copy_end:

    .section .note.GNU-stack, "", @progbits
