; Boot stub: multiboot2 (and multiboot1) headers, 32-bit protected mode -> 64-bit long mode,
; then the C# entry point kmain. GRUB enters _start with paging off, EAX = magic, EBX = info block.
;
; Paging at boot: identity map of the first 4 GiB with 2 MiB pages, except the first 2 MiB,
; mapped with 4 KiB pages and page 0 left out so that a null dereference faults (#PF).
; RAM above 4 GiB is mapped later from C# (Kernel.Hal.Paging) using the page-directory pool.

MB2_MAGIC    equ 0xE85250D6
MB2_ARCH     equ 0
PD_POOL_PAGES equ 60                  ; page directories for 4 GiB .. 64 GiB (1 GiB each)

extern kmain
extern __kernel_start, __load_end, __kernel_end, __modules_start, __modules_end

section .multiboot2 progbits alloc noexec align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
    dw 0, 0                           ; end tag
    dd 8
mb2_header_end:

; Multiboot1 header with the a.out kludge (QEMU's -kernel refuses ELF64): `qemu -kernel kernel.elf` works too.
align 4
mb1_header:
    dd 0x1BADB002
    dd 0x00010002                     ; bit 1: memory map, bit 16: address fields valid
    dd -(0x1BADB002 + 0x00010002)
    dd mb1_header
    dd __kernel_start
    dd __load_end
    dd __kernel_end
    dd _start

section .boot32 progbits alloc exec align=16
bits 32
global _start
_start:
    cli
    cld
    mov esp, boot_stack_top
    mov [mb_magic], eax
    mov [mb_info], ebx

    ; --- long mode available? (CPUID 0x80000001 EDX bit 29)
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz no_long_mode
    mov [ext_features_edx], edx

    ; --- PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3 (4 GiB)
    mov eax, pdpt
    or  eax, 0x3                      ; present | writable
    mov [pml4], eax
    xor ecx, ecx
.fill_pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, pd
    or  eax, 0x3
    mov [pdpt + ecx*8], eax
    inc ecx
    cmp ecx, 4
    jne .fill_pdpt
    xor ecx, ecx
.fill_pd:                             ; 2048 x 2 MiB pages
    mov eax, ecx
    shl eax, 21
    or  eax, 0x83                     ; present | writable | 2 MiB page
    mov [pd + ecx*8], eax
    inc ecx
    cmp ecx, 2048
    jne .fill_pd
    ; --- the first 2 MiB through PT0 with 4 KiB pages; page 0 stays not present
    mov ecx, 1
.fill_pt0:
    mov eax, ecx
    shl eax, 12
    or  eax, 0x3
    mov [pt0 + ecx*8], eax
    inc ecx
    cmp ecx, 512
    jne .fill_pt0
    mov eax, pt0
    or  eax, 0x3
    mov [pd], eax

    ; --- CR4: PAE | OSFXSR | OSXMMEXCPT (the generated code uses SSE from its first instruction)
    mov eax, cr4
    or  eax, (1 << 5) | (1 << 9) | (1 << 10)
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    ; --- EFER: LME, and NXE when the CPU has it (CPUID 0x80000001 EDX bit 20)
    mov ecx, 0xC0000080
    rdmsr
    or  eax, 1 << 8
    test dword [ext_features_edx], 1 << 20
    jz .no_nx
    or  eax, 1 << 11
.no_nx:
    wrmsr
    ; --- CR0: PG | MP | PE, clear EM and TS
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 3))
    or  eax, (1 << 31) | (1 << 1) | 1
    mov cr0, eax

    lgdt [gdt64_ptr]
    jmp 0x08:long_mode_entry

no_long_mode:                         ; say so on COM1 and on the VGA screen, then stop
    mov esi, msg_no_long_mode
    mov edi, 0xB8000
.print:
    lodsb
    test al, al
    jz .stop
    mov ah, 0x4F
    mov [edi], ax
    add edi, 2
    mov dx, 0x3F8
    out dx, al
    jmp .print
.stop:
    cli
    hlt
    jmp .stop

bits 64
long_mode_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, kernel_stack_top         ; 16-byte aligned
    xor rbp, rbp
    fninit

    ; --- TSS: its IST1 stack is where a double fault runs (a kernel stack overflow cannot push its frame)
    mov rax, tss
    mov word [gdt64 + 0x18 + 2], ax
    shr rax, 16
    mov byte [gdt64 + 0x18 + 4], al
    mov byte [gdt64 + 0x18 + 7], ah
    shr rax, 16
    mov dword [gdt64 + 0x18 + 8], eax
    mov rax, fault_stack_top
    mov [tss + 36], rax               ; IST1
    mov word [tss + 102], 104         ; no I/O permission bitmap
    mov ax, 0x18
    ltr ax

    ; kmain(uint magic, byte* info, nint* modulesStart, nint* modulesEnd, ulong kernelEnd)
    mov edi, [mb_magic]
    mov esi, [mb_info]
    mov rdx, __modules_start
    mov rcx, __modules_end
    mov r8,  __kernel_end
    call kmain

    ; kmain returned (it should not): isa-debug-exit 0x13 (QEMU status 39), then halt
    mov dx, 0xf4
    mov al, 0x13
    out dx, al
.hang:
    cli
    hlt
    jmp .hang

; void kernel_paging_info(ulong* out): out[0] = PML4, out[1] = PDPT, out[2] = PD pool, out[3] = pool pages
global kernel_paging_info
kernel_paging_info:
    mov qword [rdi], pml4
    mov qword [rdi + 8], pdpt
    mov qword [rdi + 16], pd_pool
    mov qword [rdi + 24], PD_POOL_PAGES
    ret

; void kernel_stack_bounds(ulong* out): out[0] = lowest address, out[1] = top of the kernel stack
global kernel_stack_bounds
kernel_stack_bounds:
    mov qword [rdi], kernel_stack
    mov qword [rdi + 8], kernel_stack_top
    ret

section .data
align 16
gdt64:
    dq 0                              ; null
    dq 0x00AF9A000000FFFF             ; 0x08: 64-bit code, DPL0
    dq 0x00CF92000000FFFF             ; 0x10: data
    dq 0x0000890000000067             ; 0x18: 64-bit TSS (base filled in at boot), limit 103
    dq 0
gdt64_end:
gdt64_ptr:
    dw gdt64_end - gdt64 - 1
    dd gdt64

section .rodata
msg_no_long_mode: db "This CPU has no 64-bit long mode: cannot boot.", 0

section .bss nobits alloc noexec write align=4096
pml4:     resb 4096
pdpt:     resb 4096
pd:       resb 4096 * 4
pt0:      resb 4096
pd_pool:  resb 4096 * PD_POOL_PAGES
boot_stack: resb 4096                 ; used before long mode only; then unmapped as the kernel stack's guard page
boot_stack_top:
kernel_stack: resb 512 * 1024
kernel_stack_top:
fault_stack: resb 16 * 1024           ; IST1: double faults
fault_stack_top:
tss: resb 104
mb_magic: resd 1
mb_info:  resd 1
ext_features_edx: resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
