; The runtime pieces that cannot be C#: port I/O and CPU control, the exception entry stubs,
; the interface dispatch fast path (with its cache), write barriers (no GC: plain stores),
; the C memory functions and the stack cookie.
bits 64
default rel
section .text

; ---------------------------------------------------------------- port I/O and CPU control
global kernel_outb, kernel_inb, kernel_outw, kernel_inw, kernel_halt, kernel_pause, kernel_rdtsc
global kernel_read_cr0, kernel_read_cr2, kernel_read_cr3, kernel_write_cr3, kernel_read_cr4
global kernel_cpuid, kernel_lidt, kernel_read_rsp
kernel_outb:                          ; (ushort port, byte value)
    mov edx, edi
    mov eax, esi
    out dx, al
    ret
kernel_inb:                           ; byte (ushort port)
    mov edx, edi
    xor eax, eax
    in  al, dx
    ret
kernel_outw:
    mov edx, edi
    mov eax, esi
    out dx, ax
    ret
kernel_inw:
    mov edx, edi
    xor eax, eax
    in  ax, dx
    ret
kernel_halt:
    cli
.1: hlt
    jmp .1
kernel_pause:
    pause
    ret
kernel_rdtsc:
    rdtsc
    shl rdx, 32
    or  rax, rdx
    ret
kernel_read_cr0:
    mov rax, cr0
    ret
kernel_read_cr2:
    mov rax, cr2
    ret
kernel_read_cr3:
    mov rax, cr3
    ret
kernel_write_cr3:
    mov cr3, rdi
    ret
kernel_read_cr4:
    mov rax, cr4
    ret
kernel_cpuid:                         ; (uint leaf, uint subleaf, uint* regs)
    push rbx
    mov r8, rdx
    mov eax, edi
    mov ecx, esi
    cpuid
    mov [r8], eax
    mov [r8 + 4], ebx
    mov [r8 + 8], ecx
    mov [r8 + 12], edx
    pop rbx
    ret
kernel_lidt:                          ; (void* descriptor)
    lidt [rdi]
    ret
kernel_read_rsp:
    lea rax, [rsp + 8]
    ret
global kernel_read_rbp
kernel_read_rbp:                      ; the caller's frame pointer (this function keeps rbp)
    mov rax, rbp
    ret

; ---------------------------------------------------------------- CPU exceptions
; Each stub pushes an error code (0 when the CPU pushes none) and its vector, saves every
; general register and calls kernel_on_exception(frame*). The frame layout is
; Kernel.Hal.Cpu.ExceptionFrame: r15 .. rax, vector, error code, rip, cs, rflags, rsp, ss.
extern kernel_on_exception

%macro ISR_NOERR 1
isr_%1:
    push qword 0
    push qword %1
    jmp isr_common
%endmacro
%macro ISR_ERR 1
isr_%1:
    push qword %1
    jmp isr_common
%endmacro

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp                      ; ExceptionFrame*
    mov rbx, rsp
    and rsp, -16
    cld
    call kernel_on_exception
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                       ; vector and error code
    iretq

global kernel_isr_table
kernel_isr_table:
    lea rax, [isr_table]
    ret

section .rodata
align 8
isr_table:
%assign i 0
%rep 32
    dq isr_ %+ i
%assign i i+1
%endrep

; ---------------------------------------------------------------- interface dispatch
; Call sites do `lea r11, [cell]; call [r11]`; the cell's stub is this function. Fast path:
; probe the two cache entries for (cell, type of `this`) (the hashed one and its neighbour);
; on a hit jump straight to the target.
; Slow path: save the argument registers, resolve in C# (which fills the entry), jump.
section .text
DISPATCH_ENTRIES equ 1024
extern RhpResolveInterfaceDispatch
global RhpInitialDynamicInterfaceDispatch, kernel_dispatch_cache, kernel_dispatch_hits
RhpInitialDynamicInterfaceDispatch:
    mov rax, [rdi]                    ; MethodTable of `this` (null faults here, at address 0)
    mov r10, rax
    xor r10, r11
    shr r10, 3
    and r10d, DISPATCH_ENTRIES - 1
    shl r10, 5
    add r10, dispatch_cache           ; the kernel lies below 2 GiB: a 32-bit absolute is enough
    cmp r11, [r10]
    jne .second
    cmp rax, [r10 + 8]
    jne .second
    inc qword [dispatch_hits]
    jmp [r10 + 16]
.second:                              ; two-way: the neighbour entry (index ^ 1) holds an evicted pair
    xor r10, 32
    cmp r11, [r10]
    jne .miss
    cmp rax, [r10 + 8]
    jne .miss
    inc qword [dispatch_hits]
    jmp [r10 + 16]
.miss:
    push rbp
    mov rbp, rsp
    push rdi
    push rsi
    push rdx
    push rcx
    push r8
    push r9
    sub rsp, 128
    movdqu [rsp + 0x00], xmm0
    movdqu [rsp + 0x10], xmm1
    movdqu [rsp + 0x20], xmm2
    movdqu [rsp + 0x30], xmm3
    movdqu [rsp + 0x40], xmm4
    movdqu [rsp + 0x50], xmm5
    movdqu [rsp + 0x60], xmm6
    movdqu [rsp + 0x70], xmm7
    mov rsi, r11                      ; (object this = rdi, cell = rsi)
    call RhpResolveInterfaceDispatch
    mov r11, rax
    movdqu xmm0, [rsp + 0x00]
    movdqu xmm1, [rsp + 0x10]
    movdqu xmm2, [rsp + 0x20]
    movdqu xmm3, [rsp + 0x30]
    movdqu xmm4, [rsp + 0x40]
    movdqu xmm5, [rsp + 0x50]
    movdqu xmm6, [rsp + 0x60]
    movdqu xmm7, [rsp + 0x70]
    add rsp, 128
    pop r9
    pop r8
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    jmp r11

kernel_dispatch_cache:
    lea rax, [dispatch_cache]
    ret
kernel_dispatch_hits:
    mov rax, [dispatch_hits]
    ret

; ---------------------------------------------------------------- write barriers (no GC)
global RhpAssignRef, RhpCheckedAssignRef, RhpByRefAssignRef
RhpAssignRef:                         ; rdi = &field, rsi = value
RhpCheckedAssignRef:
    mov [rdi], rsi
    ret
RhpByRefAssignRef:                    ; *rdi = *rsi; rdi += 8; rsi += 8 (only rcx may be trashed)
    mov rcx, [rsi]
    mov [rdi], rcx
    add rdi, 8
    add rsi, 8
    ret

; Transitions are no-ops: no GC, no thread suspension.
global RhpReversePInvoke, RhpReversePInvokeReturn, RhpPInvoke, RhpPInvokeReturn
RhpReversePInvoke:
RhpReversePInvokeReturn:
RhpPInvoke:
RhpPInvokeReturn:
    ret

; ---------------------------------------------------------------- C memory functions
global memset, memcpy, memmove
memset:                               ; (dst, int c, n) -> dst
    mov r9, rdi
    mov eax, esi
    mov rcx, rdx
    rep stosb
    mov rax, r9
    ret
memcpy:
memmove:                              ; (dst, src, n) -> dst
    mov rax, rdi
    mov rcx, rdx
    cmp rdi, rsi
    jbe .forward
    lea r8, [rsi + rdx]
    cmp rdi, r8
    jae .forward
    lea rsi, [rsi + rdx - 1]
    lea rdi, [rdi + rdx - 1]
    std
    rep movsb
    cld
    ret
.forward:
    rep movsb
    ret

section .data
global __security_cookie
align 8
__security_cookie: dq 0x2B992DDFA232

section .bss nobits alloc noexec write align=64
dispatch_cache: resb 32 * DISPATCH_ENTRIES   ; 64-byte aligned: entry ^ 32 is the neighbour of the same pair
dispatch_hits:  resq 1

section .note.GNU-stack noalloc noexec nowrite progbits

; ---------------------------------------------------------------- the collector's roots
section .text
global kernel_spill_callee_saved, kernel_clear_dead_stack
kernel_spill_callee_saved:            ; (ulong* out): rbx, rbp, r12-r15 as the caller has them
    mov [rdi], rbx
    mov [rdi + 8], rbp
    mov [rdi + 16], r12
    mov [rdi + 24], r13
    mov [rdi + 32], r14
    mov [rdi + 40], r15
    ret
kernel_clear_dead_stack:              ; (ulong bytes): zeroes [rsp - bytes, rsp), the dead stack below the return address
    mov rax, rsp
    sub rax, rdi
    and rax, -8
    xor edx, edx
.zero:
    cmp rax, rsp
    jae .done
    mov [rax], rdx
    add rax, 8
    jmp .zero
.done:
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
