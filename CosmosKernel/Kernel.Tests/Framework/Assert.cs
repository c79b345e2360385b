namespace Kernel.Tests.Framework
{
    /// <summary>
    /// The asserts of one test. A failed assert is recorded, never thrown: the test goes on and
    /// its FAIL frame joins every failure message with "; ".
    /// </summary>
    public sealed class Assert
    {
        private string _failures;
        private int _failureCount;
        private int _checks;
        private string _skipReason;

        public bool Failed => _failureCount != 0;
        public int FailureCount => _failureCount;
        /// <summary>Asserts evaluated so far (passing or not).</summary>
        public int Checks => _checks;
        public string Failures => _failures ?? "";
        public bool Skipped => (object)_skipReason != null;
        public string SkipReason => _skipReason ?? "";

        /// <summary>Records <paramref name="message"/> as a failure.</summary>
        public void Fail(string message)
        {
            _checks++;
            _failureCount++;
            _failures = _failures == null ? message : string.Concat(_failures, "; ", message);
        }

        /// <summary>Marks the test skipped (reported as SKIP unless an assert failed).</summary>
        public void Skip(string reason) => _skipReason = reason;

        public void True(bool condition, string what)
        {
            if (condition) _checks++; else Fail(string.Concat(what, ": expected true but was false"));
        }

        public void False(bool condition, string what)
        {
            if (!condition) _checks++; else Fail(string.Concat(what, ": expected false but was true"));
        }

        public void Equal(long expected, long actual, string what)
        {
            if (expected == actual) _checks++;
            else Fail(string.Concat(new string[] { what, ": expected ", expected.ToString(), " but was ", actual.ToString() }));
        }

        public void Equal(ulong expected, ulong actual, string what)
        {
            if (expected == actual) _checks++;
            else Fail(string.Concat(new string[] { what, ": expected ", expected.ToString(), " but was ", actual.ToString() }));
        }

        public void Equal(string expected, string actual, string what)
        {
            if (expected == actual) _checks++;
            else Fail(string.Concat(new string[] { what, ": expected \"", expected ?? "null", "\" but was \"", actual ?? "null", "\"" }));
        }

        public void Equal(bool expected, bool actual, string what)
        {
            if (expected == actual) _checks++;
            else Fail(string.Concat(new string[] { what, ": expected ", expected.ToString(), " but was ", actual.ToString() }));
        }

        public void NotNull(object value, string what)
        {
            if (value != null) _checks++; else Fail(string.Concat(what, ": expected an object but was null"));
        }

        public void Null(object value, string what)
        {
            if (value == null) _checks++; else Fail(string.Concat(what, ": expected null but was an object"));
        }

        public void Same(object expected, object actual, string what)
        {
            if ((object)expected == actual) _checks++; else Fail(string.Concat(what, ": expected the same object but was another"));
        }

        public void NotSame(object a, object b, string what)
        {
            if ((object)a != b) _checks++; else Fail(string.Concat(what, ": expected two objects but was one"));
        }

        /// <summary>Passes when <paramref name="low"/> &lt;= <paramref name="actual"/> &lt;= <paramref name="high"/>.</summary>
        public void InRange(ulong actual, ulong low, ulong high, string what)
        {
            if (actual >= low && actual <= high) _checks++;
            else Fail(string.Concat(new string[] { what, ": expected ", low.ToString(), "..", high.ToString(), " but was ", actual.ToString() }));
        }
    }
}
