using MemoryManager.Common;

namespace MemoryManager.Core
{
    // The allocator's slow path calls out to reclaim and the OOM killer through these
    // interfaces. The page allocator defines them; the reclaim code implements them
    // (kswapd, try_to_free_pages, out_of_memory); tests supply doubles that record calls.

    /// <summary>wakeup_kswapd(zone, order, classzone_idx).</summary>
    public interface IKswapdWaker
    {
        void WakeupKswapd(int nid, ZoneType zone, int order, ZoneType classzoneIdx);
    }

    /// <summary>try_to_free_pages(): direct reclaim by the allocating task (under PF_MEMALLOC).</summary>
    public interface IDirectReclaim
    {
        /// <returns>Pages reclaimed (did_some_progress).</returns>
        ulong TryToFreePages(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx);
    }

    /// <summary>zone_reclaim() / node_reclaim(): reclaim on the allocating task's own node before the allocation goes off node (vm.zone_reclaim_mode).</summary>
    public interface INodeReclaim
    {
        /// <returns>Pages reclaimed on node <paramref name="nid"/>.</returns>
        ulong NodeReclaim(ref TaskContext current, int nid, Gfp gfp, int order, int zoneReclaimMode);
    }

    /// <summary>out_of_memory(): choose and kill a victim.</summary>
    public interface IOomKiller
    {
        /// <returns>True if a task was killed, or a victim is already on its way out.</returns>
        bool OutOfMemory(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx);
    }

    /// <summary>
    /// congestion_wait() / schedule_timeout(): let time pass so that others (kswapd, an
    /// exiting OOM victim) can make progress. The kernel yields to its scheduler; the host
    /// simulator advances its clock and runs its tasks.
    /// </summary>
    public interface ICongestionWait
    {
        void CongestionWait(ref TaskContext current, uint ticks);
    }

    /// <summary>
    /// panic(): the machine stops. The memory manager calls it after writing "Kernel panic -
    /// not syncing: ..." to its log (panic_on_oom, or the OOM killer found nothing to kill). The
    /// kernel's handler never returns: it prints the panic report, sends the PANIC frame and
    /// halts. A host handler (tests, the simulator) records the reason and returns; the memory
    /// manager then refuses every further OOM decision (OomKiller.Panicked), as a dead machine would.
    /// </summary>
    public interface IPanicHandler
    {
        void Panic(string reason);
    }
}
