# gdb script (python): counts the guest instructions of one order-0 alloc+free pair of the
# kernel's `measure` suite. Run by tools/order0-instructions.sh, which boots the kernel with
# QEMU's gdbstub (-s). Waits for PageBench.BuddyRound (the measure suite's buddy loop), then single-steps from one
# entry of PageAllocator.AllocPages to the next (one loop iteration: alloc, the store into the
# page, free, the loop) four times, and prints the counts; then the same for the order-3 loop. Single steps run with interrupts
# masked (QEMU's default sstep flags), so nothing else is counted. Then the same for the suite's
# 48-byte object loop (BuddyHeap.Alloc(48) + BuddyHeap.Free through the slab's kmalloc-64).
import gdb, time
gdb.execute("set pagination off")
gdb.execute("set confirm off")
for i in range(300):
    try:
        gdb.execute("target remote 127.0.0.1:1234")
        break
    except gdb.error:
        time.sleep(0.1)

def addr(sym):
    return int(gdb.parse_and_eval("(long)&'%s'" % sym))

round_ = addr("Kernel_Tests_Kernel_Tests_PageBench__BuddyRound")
alloc = addr("MemoryManager_Kernel_MemoryManager_Allocator_PageAllocator__AllocPages")
free = addr("MemoryManager_Kernel_MemoryManager_Allocator_PageAllocator__FreePages")
gdb.execute("hbreak *%d" % round_)
gdb.execute("continue")
gdb.execute("delete")
def first_entry(at, condition=None):
    """Runs to the next entry of the function at `at` (when `condition` holds there)."""
    gdb.execute("hbreak *%d%s" % (at, " if " + condition if condition else ""))
    gdb.execute("continue")
    gdb.execute("delete")

def iterations(entry, mark=None, times=4):
    """Single-steps from one entry of `entry` to the next, `times` times; yields (instructions,
    instructions until the first entry of `mark`, or 0)."""
    for it in range(times):
        n = 0
        to_mark = 0
        while n < 20000:
            gdb.execute("stepi", to_string=True)
            n += 1
            pc = int(gdb.parse_and_eval("$pc"))
            if mark is not None and pc == mark and to_mark == 0:
                to_mark = n
            if pc == entry:
                break
        yield n, to_mark

first_entry(alloc)
for n, to_free in iterations(alloc, mark=free):
    print("ORDER0 pair: %d instructions per iteration (%d from AllocPages to FreePages, %d from FreePages back to AllocPages)" % (n, to_free, n - to_free))
# Then the same loop at order 3 (the measure suite's buddy order-3 round, the general path both
# ways): from one entry of AllocPages with order 3 (its fourth argument, ecx) to the next.
first_entry(alloc, "($rcx & 0xffffffff) == 3")
for n, _ in iterations(alloc):
    print("ORDER3 pair: %d instructions per iteration (AllocPages(order 3), the store, FreePages, the loop)" % n)
# Then the measure suite's 48-byte object loop (BuddyHeap.Alloc(48), a store, BuddyHeap.Free):
# from one entry of BuddyHeap.Alloc(nuint) with size 48 to the next.
obj = addr("Kernel_Mm_Kernel_Mm_BuddyHeap__Alloc")
first_entry(obj, "$rdi == 48")
for n, _ in iterations(obj):
    print("OBJECT48 pair: %d instructions per iteration (BuddyHeap.Alloc(48), the store, BuddyHeap.Free, the loop)" % n)
gdb.execute("detach")
gdb.execute("quit")
