namespace Kernel.Tests.Framework
{
    /// <summary>One test: a name (a sentence stating the rule) and a static method taking the asserts.</summary>
    public unsafe struct TestCase
    {
        public string Name;
        public delegate*<Assert, void> Body;
        /// <summary>RAM (MiB) this test needs, when more than its suite's minimum; below it the test is skipped with <see cref="MinimumReason"/>. 0: nothing of its own.</summary>
        public ulong MinimumMiB;
        public string MinimumReason;
    }

    /// <summary>
    /// A suite: a name the shell's `test` command accepts, the memory it needs, and its tests,
    /// registered in the constructor with <see cref="Add"/>:
    /// <code>
    /// public MySuite() : base("mine", AnyMemory, null) { Add("Two_plus_two_is_four", &amp;Two_plus_two_is_four); }
    /// static void Two_plus_two_is_four(Assert a) => a.Equal(4, 2 + 2, "2 + 2");
    /// </code>
    /// Memory is counted as <see cref="Kernel.Hal.BootInfo.RamMiB"/> counts it (the machine's
    /// RAM, QEMU's -m). On a smaller machine every test of the suite is reported SKIP with
    /// "needs at least N MiB of RAM (why); this machine has M MiB" (docs/testing.md).
    /// </summary>
    public abstract unsafe class TestSuite
    {
        private TestCase[] _tests = new TestCase[8];
        private int _count;

        /// <summary>A suite's minimum meaning "wherever the kernel boots": the kernel's own minimum (Kernel.Proc.MemoryNeeds) covers what it needs.</summary>
        public const ulong AnyMemory = 0;

        /// <param name="name">The name `test &lt;suite&gt;` selects.</param>
        /// <param name="minimumMiB">RAM below which the suite is skipped, or <see cref="AnyMemory"/>.</param>
        /// <param name="why">What the minimum is made of (the skip message says it); null with AnyMemory.</param>
        protected TestSuite(string name, ulong minimumMiB, string why)
        {
            Name = name;
            MinimumMiB = minimumMiB;
            MinimumReason = why ?? "";
        }

        /// <summary>The name `test &lt;suite&gt;` selects.</summary>
        public string Name { get; }

        /// <summary>RAM in MiB below which the whole suite is skipped (<see cref="AnyMemory"/>: never).</summary>
        public ulong MinimumMiB { get; }

        /// <summary>Why the suite needs <see cref="MinimumMiB"/>.</summary>
        public string MinimumReason { get; }

        /// <summary>Deliberate-failure suites (selftest-*) are left out of `test all`.</summary>
        public virtual bool IsSelfTest => false;

        public int Count => _count;

        public TestCase this[int index] => _tests[index];

        /// <summary>Registers a test; tests run in the order they were added.</summary>
        protected void Add(string name, delegate*<Assert, void> body) => Add(name, body, AnyMemory, null);

        /// <summary>Registers a test that needs <paramref name="minimumMiB"/> of RAM (more than its suite) because of <paramref name="why"/>; below that it is skipped.</summary>
        protected void Add(string name, delegate*<Assert, void> body, ulong minimumMiB, string why)
        {
            if (_count == _tests.Length)
            {
                var bigger = new TestCase[_tests.Length * 2];
                for (int i = 0; i < _count; i++) bigger[i] = _tests[i];
                _tests = bigger;
            }
            _tests[_count].Name = name;
            _tests[_count].Body = body;
            _tests[_count].MinimumMiB = minimumMiB;
            _tests[_count].MinimumReason = why ?? "";
            _count++;
        }
    }
}
