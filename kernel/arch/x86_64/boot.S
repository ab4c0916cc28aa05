/*
 * Multiboot2 entry. GRUB enters _start in 32-bit protected mode with paging
 * off, EAX = multiboot2 magic, EBX = physical address of the boot
 * information. We build just enough page tables to reach long mode and the
 * higher half, then call kmain(magic, info_phys) on the boot stack.
 *
 * Everything in this file runs at physical addresses until the far jump to
 * long mode, so it lives in the .boot sections, which are linked at their
 * load address.
 */
#include <arch/layout.h>

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

#define DEBUG_EXIT_PORT 0xf4
#define COM1 0x3f8

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* End tag. */
    .short 0
    .short 0
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $boot_stack_top_phys, %esp
    mov %eax, %edi              /* magic: first argument of kmain */
    mov %ebx, %esi              /* info: second argument */

    /* Boot-phase measurement starts here (docs/benchmarks.md). */
    rdtsc
    mov %eax, boot_tsc_phys
    mov %edx, boot_tsc_phys + 4

    /* Long mode needs CPUID leaf 0x80000001 with EDX.LM (bit 29). */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode
    mov %edx, %ebp              /* keep EDX.NX (bit 20) for EFER below */

    /* Zero the boot page tables (6 pages), then fill them in. */
    mov $boot_pml4, %eax
    mov %edi, %ebx
    mov %eax, %edi
    xor %eax, %eax
    mov $(6 * 4096 / 4), %ecx
    rep stosl
    mov %ebx, %edi

    /* PML4[0] (identity) and PML4[256] (direct map) share one PDPT that
     * maps 0-4 GiB; PML4[511] -> a PDPT whose entry 510 maps 0-1 GiB at
     * KERNEL_VMA. */
    mov $(boot_pdpt_low + PTE_P + PTE_W), %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256 * 8
    mov $(boot_pdpt_high + PTE_P + PTE_W), %eax
    mov %eax, boot_pml4 + 511 * 8
    mov $(boot_pd + PTE_P + PTE_W), %eax
    mov %eax, boot_pdpt_high + 510 * 8

    /* boot_pdpt_low[i] -> boot_pd + i*4096, i = 0..3. */
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $(boot_pd + PTE_P + PTE_W), %eax
    mov %eax, boot_pdpt_low(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jne 1b

    /* 2048 PD entries of 2 MiB pages: physical 0-4 GiB. */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P + PTE_W + PTE_PS), %eax
    mov %eax, boot_pd(, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax               /* high dword: (i * 2 MiB) >> 32 */
    mov %eax, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    /* CR4.PAE, CR3, EFER.LME (+NXE when supported), then CR0.PG and WP. */
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    bt $20, %ebp
    jnc 3f
    or $0x800, %eax
3:  wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_entry

no_long_mode:
    mov $no_long_mode_msg, %esi
4:  lodsb
    test %al, %al
    jz 5f
    mov $COM1, %dx
    out %al, %dx
    jmp 4b
5:  mov $0x11, %eax             /* failure status, as arch_halt() uses */
    mov $DEBUG_EXIT_PORT, %dx
    out %eax, %dx
6:  hlt
    jmp 6b

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $higher_half_entry, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff    /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
no_long_mode_msg:
    .asciz "capOS: this CPU has no long mode (x86_64); cannot boot\n"

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .globl boot_pml4            /* the other CPUs start on these too (smp.c) */
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096

    .text
higher_half_entry:
    /* Move the stack to its higher-half alias, clear .bss, call kmain. */
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %rdi, %r12
    mov %rsi, %r13
    /* .bss is 16-byte aligned and a multiple of 8 long (kernel.ld). */
    movabs $__bss_start, %rdi
    movabs $__bss_end, %rcx
    sub %rdi, %rcx
    shr $3, %rcx
    xor %eax, %eax
    rep stosq
    mov %r12, %rdi
    mov %r13, %rsi
    call kmain
7:  cli
    hlt
    jmp 7b

    /* The boot stack and the entry timestamp live in .boot.bss so that
     * zeroing .bss cannot clobber them; 32-bit code reaches them through
     * their physical addresses, 64-bit code through KERNEL_VMA. */
    .section .boot.bss, "aw", @nobits
    .balign 16
    .globl boot_tsc_phys
boot_tsc_phys: .skip 8
    .balign 4096
    .globl boot_stack_top_phys
boot_stack_bottom_phys: .skip BOOT_STACK_SIZE
boot_stack_top_phys:

    .section .note.GNU-stack, "", @progbits
