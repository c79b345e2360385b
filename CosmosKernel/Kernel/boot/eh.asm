; Exception handling: the entry points ilc's code calls to throw (RhpThrowEx, RhpRethrow), the
; stub that runs a catch/filter/finally funclet on its parent frame's registers, and the jump
; that resumes a catching frame. The dispatcher itself is C#
; (Kernel.CoreLib/Runtime/ExceptionDispatch.cs; docs/exceptions.md).
;
; EhContext (Kernel.Core.Runtime.EhContext): rip, rsp, rbx, rbp, r12, r13, r14, r15 (8 qwords).
bits 64
default rel
section .text

extern kernel_dispatch_exception
global RhpThrowEx, RhpRethrow, kernel_call_funclet, kernel_funclet_return_site, kernel_filter_threw_site
global kernel_resume, kernel_capture_context, kernel_eh_frame_bounds

; RhpThrowEx(rdi = exception): the throw site's context (its return address, its rsp after the
; return, the callee-saved registers as they are now) goes to kernel_dispatch_exception(ex, kind, ctx).
RhpThrowEx:
    xor esi, esi                      ; kind 0: throw
    jmp throw_common
RhpRethrow:                           ; `throw;` inside a catch: the dispatcher finds the object
    xor edi, edi
    mov esi, 1                        ; kind 1: rethrow
throw_common:
    mov rax, [rsp]                    ; return address into the throwing method
    lea rcx, [rsp + 8]                ; the throwing method's rsp at the call
    sub rsp, 72                       ; 8 qwords of context + 8: rsp is 16-aligned for the call below
    mov [rsp], rax
    mov [rsp + 8], rcx
    mov [rsp + 16], rbx
    mov [rsp + 24], rbp
    mov [rsp + 32], r12
    mov [rsp + 40], r13
    mov [rsp + 48], r14
    mov [rsp + 56], r15
    mov rdx, rsp
    call kernel_dispatch_exception    ; never returns: it resumes a catching frame or ends the task
    ud2

; ulong kernel_call_funclet(void* funclet, object arg, EhContext* parent, FuncletRecord* record)
; Calls a funclet with the callee-saved registers of its parent frame (a funclet reaches the
; parent's locals through rbp) and arg in rdi (the exception, for catch and filter funclets).
; Returns what the funclet returns (a catch: the resume address; a filter: 0 or 1). While the
; funclet runs, [rsp] at the call holds `record`: the unwinder, meeting
; kernel_funclet_return_site as a return address, reads the parent's context from it.
kernel_call_funclet:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rcx                          ; the record; 7 pushes leave rsp 16-aligned for the call
    mov rax, rdi
    mov rbx, [rdx + 16]
    mov rbp, [rdx + 24]
    mov r12, [rdx + 32]
    mov r13, [rdx + 40]
    mov r14, [rdx + 48]
    mov r15, [rdx + 56]
    mov rdi, rsi
    call rax
kernel_funclet_return_site:
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
; A throw out of a filter that nothing inside the filter catches lands here (rsp as at the call):
; the filter's answer is "no".
kernel_filter_threw_site:
    xor eax, eax
    jmp kernel_funclet_return_site

; void kernel_resume(EhContext* ctx, ulong rip): the catching frame's registers and stack, then rip.
kernel_resume:
    mov rax, rsi
    mov rbx, [rdi + 16]
    mov rbp, [rdi + 24]
    mov r12, [rdi + 32]
    mov r13, [rdi + 40]
    mov r14, [rdi + 48]
    mov r15, [rdi + 56]
    mov rsp, [rdi + 8]
    jmp rax

; void kernel_capture_context(EhContext* out): the caller's context (rip = the return address).
kernel_capture_context:
    mov rax, [rsp]
    mov [rdi], rax
    lea rax, [rsp + 8]
    mov [rdi + 8], rax
    mov [rdi + 16], rbx
    mov [rdi + 24], rbp
    mov [rdi + 32], r12
    mov [rdi + 40], r13
    mov [rdi + 48], r14
    mov [rdi + 56], r15
    ret

; void kernel_eh_frame_bounds(ulong* out): out[0..1] = .eh_frame, out[2..3] = managed code, out[4..5] = the funclet stub's two sites
extern __eh_frame_start, __eh_frame_end, __managed_code_start, __managed_code_end
kernel_eh_frame_bounds:
    mov rax, __eh_frame_start
    mov [rdi], rax
    mov rax, __eh_frame_end
    mov [rdi + 8], rax
    mov rax, __managed_code_start
    mov [rdi + 16], rax
    mov rax, __managed_code_end
    mov [rdi + 24], rax
    lea rax, [kernel_funclet_return_site]
    mov [rdi + 32], rax
    lea rax, [kernel_filter_threw_site]
    mov [rdi + 40], rax
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
