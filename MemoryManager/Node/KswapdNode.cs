using MemoryManager.Common;

namespace MemoryManager.Node
{
    /// <summary>Where a node's kswapd is in its cycle.</summary>
    public enum KswapdState : byte
    {
        /// <summary>Asleep until the allocator's slow path wakes it (wakeup_kswapd).</summary>
        Sleeping = 0,
        /// <summary>Woken: balance_pgdat runs one batch per Step() until the node is balanced.</summary>
        Running,
        /// <summary>Balanced: a short nap (HZ/10) before sleeping for good (kswapd_try_to_sleep).</summary>
        Napping,
    }

    /// <summary>One node's kswapd (pgdat->kswapd_* fields and the thread's loop state).</summary>
    public struct KswapdNode
    {
        public KswapdState State;
        /// <summary>pgdat->kswapd_order / kswapd_classzone_idx: the largest request it was woken for.</summary>
        public int Order;
        public ZoneType ClasszoneIdx;
        /// <summary>pgdat->kswapd_failures: balance_pgdat runs in a row that reclaimed nothing.</summary>
        public int Failures;
        /// <summary>True while a balance_pgdat run is in progress (pageoutrun was counted).</summary>
        public bool InRun;
        /// <summary>Reclaimed pages in the current run.</summary>
        public ulong RunReclaimed;
        /// <summary>Clock tick at which a nap ends.</summary>
        public ulong NapUntil;
        /// <summary>Pid of the kswapdN kernel thread in the process table.</summary>
        public int Pid;
        /// <summary>Times this node's kswapd was woken (sleeping or napping to running).</summary>
        public ulong Wakes;
    }
}
