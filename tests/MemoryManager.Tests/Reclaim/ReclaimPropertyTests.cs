using System;
using FsCheck;
using FsCheck.Fluent;
using MemoryManager;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>Random sequences of faults, reads, writes, reclaim, kswapd steps, exits and OOM kills (reaped by the oom_reaper, the victim exiting at once or later), with the census after every step.</summary>
    public unsafe class ReclaimPropertyTests
    {
        private const int Procs = 6, FilePages = 256, Vpages = 3000;

        /// <summary>Runs one operation sequence on a small machine; returns "" or what went wrong and at which step.</summary>
        private static string Run(int[] ops)
        {
            var o = VmOptions.Default;
            using var r = new Rig(memory: 12 * Rig.MiB, swapSlots: 1024, options: o);
            int f = r.File(FilePages);
            var pids = new int[Procs];
            for (int i = 0; i < Procs; i++) pids[i] = r.Spawn("p" + i, adj: i == 0 ? -1000 : (i - 3) * 100);
            for (int step = 0; step < ops.Length; step++)
            {
                int op = ops[step];
                int who = (op >> 4) % Procs;
                int pid = pids[who];
                int arg = op >> 8;
                if (!r.Vm.Procs.Exists(pid) && (op & 15) < 12)
                {
                    r.Vm.Procs.Spawn("p" + who, TaskFlags.None, 0, out pid);   // a new process takes its place
                    pids[who] = pid;
                }
                switch (op & 15)
                {
                    case 0: case 1: case 2: case 3:                            // fault in or touch anon pages
                        for (int k = 0; k < 1 + arg % 64; k++)
                        {
                            int v = (arg * 7 + k) % Vpages;
                            ProcResult pr = r.Vm.Memory.TouchAnon(pid, v, true, out byte* data);
                            if (pr == ProcResult.Ok)
                            {
                                ulong first = *(ulong*)data;
                                if (first != 0 && first != Rig.Seed(pid, v)) return $"step {step}: anon page {v} of {pid} corrupted";
                                *(ulong*)data = Rig.Seed(pid, v);
                            }
                        }
                        break;
                    case 4: case 5:
                        for (int k = 0; k < 1 + arg % 32; k++) r.Vm.PageCache.ReadFilePage(pid, f, (arg + k) % FilePages, out _);
                        break;
                    case 6:
                        r.Vm.PageCache.WriteFilePage(pid, f, arg % FilePages, out _);
                        break;
                    case 7: r.Reclaim(); break;
                    case 8: r.Reclaim(Gfp.GFP_NOFS); break;
                    case 9: case 10: r.Vm.Kswapd.Step(0); r.Clock.Ticks++; break;
                    case 11: r.Vm.Memory.Unmap(pid, arg % Vpages); break;
                    case 12: r.Vm.Memory.ExitProcess(pid); break;
                    case 13:
                    {
                        var ctx = r.Vm.Procs.Exists(pid) ? r.Vm.Procs.ContextOf(pid) : new TaskContext(0, "k", TaskFlags.None);
                        r.Vm.Oom.OutOfMemory(ref ctx, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
                        // The oom_reaper has freed the victim's memory; half the time the victim
                        // exits at once, otherwise it lingers (reaped) and later operations meet it.
                        if ((arg & 1) == 0) r.ReapExiting();
                        break;
                    }
                    case 14: r.Vm.PageCache.WritebackFile(f); break;
                    default: r.ReapExiting(); break;
                }
                if (r.Vm.Oom.Panicked) return "";                                   // only -1000 and init left: fine
                string lost = r.NoPageLost();
                if (lost != "") return $"step {step} (op {op & 15}): {lost}";
            }
            return "";
        }

        [Fact]
        public void No_page_is_lost_and_no_page_changes_under_random_operation_sequences()
        {
            var gen = Gen.ArrayOf(Gen.Choose(0, 1 << 20)).Select(a => a.Length > 300 ? a[..300] : a);
            var config = Config.QuickThrowOnFailure.WithMaxTest(40).WithReplay(12345UL, 67891UL);
            Check.One(config, Prop.ForAll(gen.ToArbitrary(), (int[] ops) =>
            {
                string err = Run(ops);
                return err == "" ? true : throw new Xunit.Sdk.XunitException(err);
            }));
        }
    }
}
