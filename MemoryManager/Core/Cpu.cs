using System.Runtime.CompilerServices;

namespace MemoryManager.Core
{
    /// <summary>
    /// The one CPU hint the memory manager uses: a software prefetch of a cache line it will
    /// touch soon (Linux's prefetch()/prefetchw()). The host build (MemoryManager.csproj defines
    /// MM_PREFETCH) issues PREFETCHT0 through System.Runtime.Intrinsics; the kernel build has no
    /// intrinsics in its core library and compiles this to nothing (QEMU TCG, where the kernel's
    /// figures come from, models no caches, so a prefetch there would only cost instructions).
    /// A prefetch never faults, so an address past the memmap is harmless.
    /// </summary>
    public static unsafe class Cpu
    {
        /// <summary>True when <see cref="Prefetch"/> issues a real prefetch instruction in this build.</summary>
        public static bool PrefetchesForReal
        {
            get
            {
#if MM_PREFETCH
                return System.Runtime.Intrinsics.X86.Sse.IsSupported;
#else
                return false;
#endif
            }
        }

        /// <summary>Brings the cache line at <paramref name="address"/> towards the core (all cache levels) without waiting for it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Prefetch(void* address)
        {
#if MM_PREFETCH
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(address);
#endif
        }
    }
}
