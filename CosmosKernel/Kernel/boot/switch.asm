; The cooperative context switch and the first frame of a new task (Kernel.Sched.Scheduler).
; A switch is an ordinary call: the caller-saved registers are already dead, so only the
; callee-saved ones (rbx, rbp, r12-r15) and rsp move. MXCSR and the x87 control word are
; callee-saved too, but every task keeps the defaults, so they are left alone.
bits 64
default rel
section .text

extern kernel_task_entry
global kernel_switch_context, kernel_task_trampoline, kernel_task_trampoline_address

; void kernel_switch_context(ulong* saveRsp, ulong newRsp)
; Pushes the callee-saved registers on the current stack, stores rsp in *saveRsp, loads newRsp,
; pops the other task's registers and returns into it (where it called this, or the trampoline).
kernel_switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; A new task's stack (built by Scheduler) holds six zeros for the pops above and then this
; address: the first switch into the task "returns" here. rbp = 0 ends backtraces.
kernel_task_trampoline:
    xor ebp, ebp
    and rsp, -16                      ; the call below leaves the callee at rsp = 8 mod 16, as the ABI wants
    call kernel_task_entry            ; runs the body, then exits the task: never returns
    ud2

kernel_task_trampoline_address:
    lea rax, [kernel_task_trampoline]
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
