/*
 * Application-processor start-up code. Copied to ARCH_AP_TRAMPOLINE_PA
 * (arch/smp.h) and entered there in real mode by a SIPI whose vector is
 * that page number; never run where it is linked, so every address it
 * uses is computed for the copy (AT(x)). It goes to protected mode and
 * then long mode on the boot page tables (boot.S), which map this page
 * 1:1 as well as the kernel's higher half, and jumps to ap_entry (smp.c)
 * on the stack the boot CPU left in the parameter block below.
 */
#define TRAMPOLINE 0x8000
#define AT(x) ((x) - ap_trampoline + TRAMPOLINE)

    .section .rodata, "a"
    .balign 16
    .globl ap_trampoline, ap_trampoline_end, ap_boot_block
    .code16
ap_trampoline:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl AT(tramp_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax                 /* PE */
    mov %eax, %cr0
    ljmpl $0x08, $AT(tramp_pm)

    .code32
tramp_pm:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax              /* PAE */
    mov %eax, %cr4
    mov AT(ap_boot_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx       /* EFER: LME, and NXE like the boot CPU */
    mov AT(ap_boot_efer), %eax
    xor %edx, %edx
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax        /* PG, WP, PE */
    mov %eax, %cr0
    ljmp $0x18, $AT(tramp_lm)

    .code64
tramp_lm:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov AT(ap_boot_stack), %rsp
    mov AT(ap_boot_cpu), %edi
    mov AT(ap_boot_entry), %rax
    jmp *%rax

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
tramp_gdt_ptr:
    .word 4 * 8 - 1
    .long AT(tramp_gdt)

    /* The parameter block (struct ap_boot in smp.c), filled in by the
     * boot CPU for each CPU it starts. */
    .balign 8
ap_boot_block:
ap_boot_cr3:   .quad 0
ap_boot_efer:  .quad 0
ap_boot_stack: .quad 0
ap_boot_entry: .quad 0
ap_boot_cpu:   .quad 0
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
