using System;
using System.Runtime.InteropServices;
using MemoryManager.Common;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>The Cosmos-style baseline (RAM allocation table) under the buddy allocator's tests where they apply.</summary>
    public sealed unsafe class RamAllocationTableTests : IDisposable
    {
        private byte* _table;
        private RamAllocationTable _rat;

        private void Init(ulong pages, bool tableInside = false)
        {
            _table = (byte*)NativeMemory.AllocZeroed((nuint)RamAllocationTable.TableBytes(pages));
            Assert.Equal(RatResult.Ok, RamAllocationTable.Init(_table, pages, tableInside, out _rat));
        }

        public void Dispose() { if (_table != null) NativeMemory.Free(_table); }

        /// <summary>The RAT's invariant: free count equals the Empty bytes, every Extension byte follows a run.</summary>
        private void AssertConsistent()
        {
            ulong empty = 0;
            for (ulong i = 0; i < _rat.TotalPages; i++)
            {
                var t = _rat.TypeOf(i);
                if (t == RatPageType.Empty) empty++;
                if (t == RatPageType.Extension) Assert.True(i > 0 && _rat.TypeOf(i - 1) != RatPageType.Empty, "orphan Extension byte at " + i);
            }
            Assert.Equal(empty, _rat.FreePages);
        }

        [Fact]
        public void Recounting_a_directly_written_table_counts_its_empty_bytes()
        {
            Init(64);
            _rat.Table[0] = (byte)RatPageType.HeapSmall;
            _rat.Table[10] = (byte)RatPageType.HeapLarge;
            _rat.Table[11] = (byte)RatPageType.Extension;
            _rat.Table[12] = (byte)RatPageType.Extension;
            _rat.RecountFreePages();
            Assert.Equal(60UL, _rat.FreePages);
            AssertConsistent();
        }

        [Fact]
        public void A_table_entry_is_one_byte_per_page()
        {
            Assert.Equal(1024UL, RamAllocationTable.TableBytes(1024));
        }

        [Fact]
        public void Single_pages_come_from_the_bottom()
        {
            Init(64);
            Assert.Equal(0UL, _rat.AllocPages(RatPageType.HeapSmall, 1));
            Assert.Equal(1UL, _rat.AllocPages(RatPageType.HeapSmall, 1));
            AssertConsistent();
        }

        [Fact]
        public void Runs_come_from_the_top()
        {
            Init(64);
            Assert.Equal(60UL, _rat.AllocPages(RatPageType.HeapLarge, 4));
            Assert.Equal(4UL, _rat.RunLength(60));
            Assert.Equal(RatPageType.Extension, _rat.TypeOf(61));
            AssertConsistent();
        }

        [Fact]
        public void Freeing_a_run_returns_all_its_pages()
        {
            Init(64);
            ulong p = _rat.AllocPages(RatPageType.HeapLarge, 8);
            Assert.Equal(56UL, _rat.FreePages);
            Assert.Equal(RatResult.Ok, _rat.Free(p, out ulong n));
            Assert.Equal(8UL, n);
            Assert.Equal(64UL, _rat.FreePages);
            AssertConsistent();
        }

        [Fact]
        public void Double_free_is_refused_and_changes_nothing()
        {
            Init(64);
            ulong p = _rat.AllocPages(RatPageType.HeapSmall, 1);
            Assert.Equal(RatResult.Ok, _rat.Free(p, out _));
            Assert.Equal(RatResult.NotAllocated, _rat.Free(p, out _));
            Assert.Equal(64UL, _rat.FreePages);
            AssertConsistent();
        }

        [Fact]
        public void A_page_outside_the_table_is_refused()
        {
            Init(64);
            Assert.Equal(RatResult.OutOfRange, _rat.Free(64, out _));
        }

        [Fact]
        public void Freeing_the_middle_of_a_run_is_refused()
        {
            Init(64);
            ulong p = _rat.AllocPages(RatPageType.HeapLarge, 4);
            Assert.Equal(RatResult.NotRunStart, _rat.Free(p + 1, out _));
            Assert.Equal(60UL, _rat.FreePages);
            AssertConsistent();
        }

        [Fact]
        public void The_table_inside_its_own_range_takes_the_last_pages_and_cannot_be_freed()
        {
            Init(8192, tableInside: true);
            Assert.Equal(8190UL, _rat.FreePages);
            Assert.Equal(RatPageType.Rat, _rat.TypeOf(8190));
            Assert.Equal(RatResult.TableSelf, _rat.Free(8190, out _));
            AssertConsistent();
        }

        [Fact]
        public void A_zero_count_or_a_type_that_cannot_start_a_run_is_refused()
        {
            Init(64);
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.HeapSmall, 0));
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.Extension, 1));
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.Empty, 1));
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.Rat, 1));   // could never be freed
            Assert.Equal(64UL, _rat.FreePages);
        }

        [Fact]
        public void Fragmentation_defeats_a_run_even_with_enough_free_pages()
        {
            Init(64);
            var singles = new ulong[64];
            for (int i = 0; i < 64; i++) singles[i] = _rat.AllocPages(RatPageType.HeapSmall, 1);
            for (int i = 0; i < 64; i += 2) _rat.Free(singles[i], out _);
            Assert.Equal(32UL, _rat.FreePages);
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.HeapLarge, 2));
            AssertConsistent();
        }

        [Fact]
        public void Running_out_of_pages_fails_cleanly()
        {
            Init(8);
            Assert.Equal(0UL, _rat.AllocPages(RatPageType.HeapLarge, 8));
            Assert.Equal(RamAllocationTable.NoPage, _rat.AllocPages(RatPageType.HeapSmall, 1));
            AssertConsistent();
        }

        [Fact]
        public void Random_alloc_free_sequences_keep_the_table_consistent()
        {
            Init(512);
            var rnd = new Random(12345);
            var runs = new System.Collections.Generic.List<(ulong start, ulong len)>();
            for (int step = 0; step < 20000; step++)
            {
                if (runs.Count > 0 && rnd.Next(2) == 0)
                {
                    int i = rnd.Next(runs.Count);
                    Assert.Equal(RatResult.Ok, _rat.Free(runs[i].start, out ulong n));
                    Assert.Equal(runs[i].len, n);
                    runs.RemoveAt(i);
                }
                else
                {
                    ulong len = rnd.Next(4) == 0 ? (ulong)rnd.Next(2, 16) : 1;
                    ulong p = _rat.AllocPages(RatPageType.HeapMedium, len);
                    if (p != RamAllocationTable.NoPage) runs.Add((p, len));
                }
                if (step % 500 == 0) AssertConsistent();
            }
            AssertConsistent();
        }
    }
}
