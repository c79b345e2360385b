namespace Kernel.Tests.Framework
{
    /// <summary>One test: a name (a sentence stating the rule) and a static method taking the asserts.</summary>
    public unsafe struct TestCase
    {
        public string Name;
        public delegate*<Assert, void> Body;
    }

    /// <summary>
    /// A suite: a name the shell's `test` command accepts and its tests, registered in the
    /// constructor with <see cref="Add"/>:
    /// <code>
    /// public MySuite() : base("mine") { Add("Two_plus_two_is_four", &amp;Two_plus_two_is_four); }
    /// static void Two_plus_two_is_four(Assert a) => a.Equal(4, 2 + 2, "2 + 2");
    /// </code>
    /// </summary>
    public abstract unsafe class TestSuite
    {
        private TestCase[] _tests = new TestCase[8];
        private int _count;

        protected TestSuite(string name) { Name = name; }

        /// <summary>The name `test &lt;suite&gt;` selects.</summary>
        public string Name { get; }

        /// <summary>Deliberate-failure suites (selftest-*) are left out of `test all`.</summary>
        public virtual bool IsSelfTest => false;

        public int Count => _count;

        public TestCase this[int index] => _tests[index];

        /// <summary>Registers a test; tests run in the order they were added.</summary>
        protected void Add(string name, delegate*<Assert, void> body)
        {
            if (_count == _tests.Length)
            {
                var bigger = new TestCase[_tests.Length * 2];
                for (int i = 0; i < _count; i++) bigger[i] = _tests[i];
                _tests = bigger;
            }
            _tests[_count].Name = name;
            _tests[_count].Body = body;
            _count++;
        }
    }
}
