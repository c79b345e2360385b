; Hardware interrupts from the two 8259 PICs, remapped to vectors 0x20..0x2F (Kernel.Hal.Interrupts).
; Every stub is self-contained: it touches only rax and memory (flags come back with iretq), so
; nothing managed runs in interrupt context and no SSE state needs saving.
;   IRQ0 (PIT channel 0): jiffies += 1, EOI.
;   IRQ7 / IRQ15: spurious unless the PIC's in-service register has the bit; a spurious IRQ7 gets
;   no EOI, a spurious IRQ15 an EOI to the master only (which did see IRQ2). Both are counted.
;   Any other line (masked, so it should never arrive): counted, EOI.
bits 64
default rel
section .text

PIC1_CMD equ 0x20
PIC2_CMD equ 0xA0
EOI      equ 0x20
READ_ISR equ 0x0B                     ; OCW3: the next read of the command port returns the ISR

%macro IRQ_MASTER 1
irq_%1:
    push rax
    inc qword [irq_counts + 8 * %1]
    mov al, EOI
    out PIC1_CMD, al
    pop rax
    iretq
%endmacro

%macro IRQ_SLAVE 1
irq_%1:
    push rax
    inc qword [irq_counts + 8 * %1]
    mov al, EOI
    out PIC2_CMD, al
    out PIC1_CMD, al
    pop rax
    iretq
%endmacro

irq_0:                                ; the tick
    push rax
    inc qword [jiffies]
    inc qword [irq_counts]
    mov al, EOI
    out PIC1_CMD, al
    pop rax
    iretq

IRQ_MASTER 1
IRQ_MASTER 2
IRQ_MASTER 3
IRQ_MASTER 4
IRQ_MASTER 5
IRQ_MASTER 6

irq_7:
    push rax
    mov al, READ_ISR
    out PIC1_CMD, al
    in al, PIC1_CMD
    test al, 0x80
    jz .spurious
    inc qword [irq_counts + 8 * 7]
    mov al, EOI
    out PIC1_CMD, al
    pop rax
    iretq
.spurious:                            ; no EOI: the master has nothing in service
    inc qword [spurious_irqs]
    pop rax
    iretq

IRQ_SLAVE 8
IRQ_SLAVE 9
IRQ_SLAVE 10
IRQ_SLAVE 11
IRQ_SLAVE 12
IRQ_SLAVE 13
IRQ_SLAVE 14

irq_15:
    push rax
    mov al, READ_ISR
    out PIC2_CMD, al
    in al, PIC2_CMD
    test al, 0x80
    jz .spurious
    inc qword [irq_counts + 8 * 15]
    mov al, EOI
    out PIC2_CMD, al
    out PIC1_CMD, al
    pop rax
    iretq
.spurious:                            ; the slave's IRQ was spurious, but the master's IRQ2 was real
    inc qword [spurious_irqs]
    mov al, EOI
    out PIC1_CMD, al
    pop rax
    iretq

; ---------------------------------------------------------------- accessors and CPU control
global kernel_irq_table, kernel_jiffies, kernel_irq_count, kernel_spurious_irqs
global kernel_sti, kernel_cli, kernel_idle_halt, kernel_read_rflags
kernel_irq_table:                     ; ulong* (16 stub addresses)
    lea rax, [irq_table]
    ret
kernel_jiffies:                       ; ulong: IRQ0 ticks since the PIT was started
    mov rax, [jiffies]
    ret
kernel_irq_count:                     ; ulong (int irq): interrupts handled on that line
    mov eax, edi
    and eax, 15
    lea rdx, [irq_counts]
    mov rax, [rdx + rax * 8]
    ret
kernel_spurious_irqs:
    mov rax, [spurious_irqs]
    ret
kernel_sti:
    sti
    ret
kernel_cli:
    cli
    ret
kernel_idle_halt:                     ; sti's one-instruction shadow: no interrupt slips in before hlt
    sti
    hlt
    ret
kernel_read_rflags:
    pushfq
    pop rax
    ret

section .rodata
align 8
irq_table:
%assign i 0
%rep 16
    dq irq_ %+ i
%assign i i+1
%endrep

section .bss nobits alloc noexec write align=8
jiffies:       resq 1
irq_counts:    resq 16
spurious_irqs: resq 1

section .note.GNU-stack noalloc noexec nowrite progbits
