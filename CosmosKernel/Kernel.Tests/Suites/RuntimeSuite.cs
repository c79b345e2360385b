using System;
using System.Runtime.CompilerServices;
using Kernel.Core.Runtime;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>The C# features kernel code relies on, compiled by ILC against Kernel.CoreLib.</summary>
    public sealed unsafe class RuntimeSuite : TestSuite
    {
        public RuntimeSuite() : base("runtime", AnyMemory, null)
        {
            Add("Objects_are_allocated_and_linked", &Objects_are_allocated_and_linked);
            Add("New_objects_start_zeroed", &New_objects_start_zeroed);
            Add("Arrays_of_values_hold_their_elements", &Arrays_of_values_hold_their_elements);
            Add("Array_initialisers_fill_the_array", &Array_initialisers_fill_the_array);
            Add("Arrays_of_references_hold_their_elements", &Arrays_of_references_hold_their_elements);
            Add("Strings_concatenate", &Strings_concatenate);
            Add("Integers_format_in_decimal", &Integers_format_in_decimal);
            Add("Integers_format_in_hexadecimal", &Integers_format_in_hexadecimal);
            Add("String_equality_compares_characters", &String_equality_compares_characters);
            Add("Switch_on_strings_picks_the_matching_case", &Switch_on_strings_picks_the_matching_case);
            Add("Static_fields_keep_their_initial_values", &Static_fields_keep_their_initial_values);
            Add("Static_constructors_run_once_on_first_use", &Static_constructors_run_once_on_first_use);
            Add("Virtual_calls_reach_the_override", &Virtual_calls_reach_the_override);
            Add("Interface_calls_reach_each_implementation", &Interface_calls_reach_each_implementation);
            Add("Interface_calls_are_answered_from_the_cache_after_the_first", &Interface_calls_are_answered_from_the_cache_after_the_first);
            Add("Casts_and_type_tests_follow_the_hierarchy", &Casts_and_type_tests_follow_the_hierarchy);
            Add("Boxing_and_unboxing_keep_the_value", &Boxing_and_unboxing_keep_the_value);
            Add("Struct_generics_are_specialised_per_type", &Struct_generics_are_specialised_per_type);
            Add("Finally_runs_on_return_and_on_fallthrough", &Finally_runs_on_return_and_on_fallthrough);
            Add("Flags_enums_combine_and_test_bits", &Flags_enums_combine_and_test_bits);
            Add("Fixed_buffers_and_stackalloc_hold_data", &Fixed_buffers_and_stackalloc_hold_data);
            Add("Function_pointers_call_their_target", &Function_pointers_call_their_target);
            Add("Ref_returns_and_in_out_parameters_alias_storage", &Ref_returns_and_in_out_parameters_alias_storage);
            Add("Null_dereference_is_caught_by_the_unmapped_page_zero", &Null_dereference_is_caught_by_the_unmapped_page_zero);
        }

        // ---- types under test
        private sealed class Node
        {
            public int Value;
            public Node Next;
            public Node(int value, Node next) { Value = value; Next = next; }
        }

        private sealed class Blank { public long A; public int B; public object C; }

        private abstract class Animal { public virtual string Speak() => "..."; }
        private class Dog : Animal { public override string Speak() => "woof"; }
        private sealed class Puppy : Dog { public override string Speak() => "yip"; }
        private sealed class Cat : Animal { public override string Speak() => "meow"; }

        private interface IShape { int Area(); }
        private sealed class Rect : IShape { private readonly int _w, _h; public Rect(int w, int h) { _w = w; _h = h; } public int Area() => _w * _h; }
        private sealed class Square : IShape { private readonly int _s; public Square(int s) { _s = s; } public int Area() => _s * _s; }
        private sealed class Unit : IShape { public int Area() => 1; }
        private class Pentagon : IShape { public virtual int Area() => 50; }
        private sealed class BigPentagon : Pentagon { public override int Area() => 500; }

        private interface IMeasure { ulong Measure(); }
        private struct Meter : IMeasure { public ulong Value; public ulong Measure() => Value; }
        private struct Pair<T> where T : unmanaged { public T First; public T Second; }

        [Flags]
        private enum Access : byte { None = 0, Read = 1, Write = 2, Execute = 4, All = Read | Write | Execute }

        private struct Buffer16 { public fixed byte Bytes[16]; }

        private static class Statics
        {
            public static int Counter = 42;
            public static string Greeting = "hello from a static";
            public static Node List = new Node(1, new Node(2, null));
        }

        private static class LazyStatics
        {
            public static int Runs;
            public static int Value = Compute();
            private static int Compute() { Runs++; return Environment() + 1233; }
            [MethodImpl(MethodImplOptions.NoInlining)] private static int Environment() => Kernel.Hal.Timer.TscHz != 0 ? 1 : 1;
        }

        private static int s_finallyRuns;

        // ---- tests
        private static void Objects_are_allocated_and_linked(Assert a)
        {
            Node list = null;
            for (int i = 0; i < 10; i++) list = new Node(i, list);
            int sum = 0, count = 0;
            for (Node n = list; n != null; n = n.Next) { sum += n.Value; count++; }
            a.Equal(10, count, "nodes in the list");
            a.Equal(45, sum, "sum of the values");
            a.NotSame(list, list.Next, "two allocations");
        }

        private static void New_objects_start_zeroed(Assert a)
        {
            var b = new Blank();
            a.Equal(0, b.A, "long field");
            a.Equal(0, b.B, "int field");
            a.Null(b.C, "reference field");
        }

        private static void Arrays_of_values_hold_their_elements(Assert a)
        {
            int[] squares = new int[16];
            for (int i = 0; i < squares.Length; i++) squares[i] = i * i;
            a.Equal(16, squares.Length, "length");
            a.Equal(225, squares[15], "last element");
            long[] zeroed = new long[100];
            long sum = 0;
            foreach (long v in zeroed) sum += v;
            a.Equal(0, sum, "a new array is zeroed");
        }

        private static void Array_initialisers_fill_the_array(Assert a)
        {
            int[] primes = new int[] { 2, 3, 5, 7, 11, 13, 17, 19 };
            int sum = 0;
            for (int i = 0; i < primes.Length; i++) sum += primes[i];
            a.Equal(77, sum, "sum of the first eight primes");
        }

        private static void Arrays_of_references_hold_their_elements(Assert a)
        {
            string[] words = new string[] { "alpha", "beta", "gamma" };
            a.Equal(3, words.Length, "length");
            a.Equal("gamma", words[2], "third word");
            object[] things = new object[2];
            things[0] = words;
            things[1] = "x";
            a.Same(words, things[0], "stored reference");
        }

        private static void Strings_concatenate(Assert a)
        {
            string s = string.Concat("Hello, ", "kernel");
            a.Equal(13, s.Length, "length");
            a.Equal("Hello, kernel", s, "text");
            string many = "a" + s + "b" + 42;
            a.Equal("aHello, kernelb42", many, "concat with an integer");
            a.Equal("", string.Concat("", ""), "empty + empty");
        }

        private static void Integers_format_in_decimal(Assert a)
        {
            a.Equal("0", 0.ToString(), "zero");
            a.Equal("-7", (-7).ToString(), "negative");
            a.Equal("2147483647", int.MaxValue.ToString(), "int.MaxValue");
            a.Equal("-2147483648", int.MinValue.ToString(), "int.MinValue");
            a.Equal("-9223372036854775808", long.MinValue.ToString(), "long.MinValue");
            a.Equal("18446744073709551615", ulong.MaxValue.ToString(), "ulong.MaxValue");
            byte b = 255;
            a.Equal("255", b.ToString(), "byte");
        }

        private static void Integers_format_in_hexadecimal(Assert a)
        {
            a.Equal("0x0", Number.FormatHex(0, 1), "zero");
            a.Equal("0xdeadbeef", Number.FormatHex(0xDEADBEEF, 1), "deadbeef");
            a.Equal("0x00ff", Number.FormatHex(0xFF, 4), "padded");
        }

        private static void String_equality_compares_characters(Assert a)
        {
            string built = string.Concat("ab", "c");
            a.True(built == "abc", "equal text in different objects");
            a.False(built == "abd", "different text");
            a.False(built == null, "a string is not null");
            a.Equal(3, built.Length, "length");
            a.Equal((long)'c', (long)built[2], "indexer");
        }

        private static void Switch_on_strings_picks_the_matching_case(Assert a)
        {
            a.Equal(2, Pick(string.Concat("me", "m")), "mem");
            a.Equal(4, Pick("halt"), "halt");
            a.Equal(-1, Pick("nothing"), "no case");
        }

        private static int Pick(string s) => s switch
        {
            "help" => 1, "mem" => 2, "test" => 3, "halt" => 4, "reboot" => 5, "clear" => 6, "map" => 7, _ => -1,
        };

        private static void Static_fields_keep_their_initial_values(Assert a)
        {
            a.Equal(42, Statics.Counter, "preinitialised int");
            a.Equal("hello from a static", Statics.Greeting, "preinitialised string");
            a.Equal(2, Statics.List.Next.Value, "preinitialised object graph");
            Statics.Counter++;
            a.Equal(43, Statics.Counter, "written int");
            Statics.Counter--;
        }

        private static void Static_constructors_run_once_on_first_use(Assert a)
        {
            a.Equal(1234, LazyStatics.Value, "value computed by the class constructor");
            a.Equal(1234, LazyStatics.Value, "value on second use");
            a.Equal(1, LazyStatics.Runs, "class constructor runs");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string Speak(Animal animal) => animal.Speak();

        private static void Virtual_calls_reach_the_override(Assert a)
        {
            a.Equal("woof", Speak(new Dog()), "Dog");
            a.Equal("meow", Speak(new Cat()), "Cat");
            a.Equal("yip", Speak(new Puppy()), "Puppy overrides Dog");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int TotalArea(IShape[] shapes)
        {
            int total = 0;
            for (int i = 0; i < shapes.Length; i++) total += shapes[i].Area();
            return total;
        }

        private static IShape[] Shapes() => new IShape[] { new Rect(3, 4), new Square(5), new Unit(), new Pentagon(), new BigPentagon() };

        private static void Interface_calls_reach_each_implementation(Assert a)
        {
            a.Equal(12 + 25 + 1 + 50 + 500, TotalArea(Shapes()), "sum of areas (virtual override behind an interface)");
        }

        private static void Interface_calls_are_answered_from_the_cache_after_the_first(Assert a)
        {
            IShape[] shapes = Shapes();
            TotalArea(shapes); // warm: each (call site, type) pair resolved at most once
            ulong resolutionsBefore = InterfaceDispatch.Resolutions;
            ulong hitsBefore = InterfaceDispatch.CacheHits;
            int total = 0;
            for (int round = 0; round < 20; round++) total += TotalArea(shapes);
            a.Equal(20 * 588, total, "results through the cache");
            a.Equal(resolutionsBefore, InterfaceDispatch.Resolutions, "dispatch-map walks after warm-up");
            a.InRange(InterfaceDispatch.CacheHits - hitsBefore, 100, 100, "cache hits for 20 rounds of 5 calls");
        }

        private static void Casts_and_type_tests_follow_the_hierarchy(Assert a)
        {
            object dog = new Puppy();
            a.True(dog is Dog, "Puppy is a Dog");
            a.True(dog is Animal, "Puppy is an Animal");
            a.False(dog is Cat, "Puppy is not a Cat");
            a.Null(dog as Cat, "as Cat");
            a.NotNull(dog as Animal, "as Animal");
            object shape = new Rect(1, 1);
            a.True(shape is IShape, "Rect is an IShape");
            a.False(dog is IShape, "Puppy is not an IShape");
            Animal animal = (Animal)dog;
            a.Equal("yip", animal.Speak(), "after the cast");
            object text = "text";
            a.True(text is string, "a string is a string");
        }

        private static void Boxing_and_unboxing_keep_the_value(Assert a)
        {
            object boxed = 1234;
            a.True(boxed is int, "box of an int");
            a.Equal(1234, (int)boxed, "unboxed");
            object meter = new Meter { Value = 7 };
            a.Equal(7UL, ((IMeasure)meter).Measure(), "interface call on a boxed struct");
        }

        private static ulong MeasureTwice<T>(T m) where T : struct, IMeasure => m.Measure() * 2;

        private static T Second<T>(Pair<T> p) where T : unmanaged => p.Second;

        private static void Struct_generics_are_specialised_per_type(Assert a)
        {
            a.Equal(14UL, MeasureTwice(new Meter { Value = 7 }), "constrained call on a struct");
            a.Equal(9, Second(new Pair<int> { First = 8, Second = 9 }), "Pair<int>");
            a.Equal(0x1_0000_0000L, Second(new Pair<long> { First = 1, Second = 0x1_0000_0000L }), "Pair<long>");
            a.Equal(sizeof(int) * 2, sizeof(Pair<int>), "size of Pair<int>");
            a.Equal(sizeof(long) * 2, sizeof(Pair<long>), "size of Pair<long>");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int WithFinally(int x)
        {
            try
            {
                if (x > 0) return x * 2;
                x = -1;
            }
            finally
            {
                s_finallyRuns++;
            }
            return x;
        }

        private static void Finally_runs_on_return_and_on_fallthrough(Assert a)
        {
            s_finallyRuns = 0;
            a.Equal(10, WithFinally(5), "return from try");
            a.Equal(-1, WithFinally(-3), "fall through");
            a.Equal(2, s_finallyRuns, "finally blocks run");
        }

        private static void Flags_enums_combine_and_test_bits(Assert a)
        {
            Access rw = Access.Read | Access.Write;
            a.True((rw & Access.Write) != 0, "write bit set");
            a.True((rw & Access.Execute) == 0, "execute bit clear");
            a.Equal((long)Access.All, (long)(rw | Access.Execute), "all bits");
            a.Equal((long)Access.Read, (long)(rw & ~Access.Write), "bit cleared");
        }

        private static void Fixed_buffers_and_stackalloc_hold_data(Assert a)
        {
            Buffer16 buffer = default;
            for (int i = 0; i < 16; i++) buffer.Bytes[i] = (byte)(i * 3);
            a.Equal(45, buffer.Bytes[15], "fixed buffer element");
            int* squares = stackalloc int[32];
            for (int i = 0; i < 32; i++) squares[i] = i * i;
            a.Equal(961, squares[31], "stackalloc element");
        }

        private static int Twice(int x) => 2 * x;
        private static int Negate(int x) => -x;

        private static void Function_pointers_call_their_target(Assert a)
        {
            delegate*<int, int> f = &Twice;
            a.Equal(42, f(21), "Twice");
            f = &Negate;
            a.Equal(-21, f(21), "Negate");
        }

        private static ref int Slot(int[] array, int index) => ref array[index];
        private static void Increment(ref int x) => x++;
        private static int Read(in Meter m) => (int)m.Value;
        private static void Split(ulong v, out uint high, out uint low) { high = (uint)(v >> 32); low = (uint)v; }

        private static void Ref_returns_and_in_out_parameters_alias_storage(Assert a)
        {
            int[] array = new int[4];
            Slot(array, 2) = 7;
            Increment(ref array[2]);
            a.Equal(8, array[2], "ref return and ref parameter");
            var m = new Meter { Value = 5 };
            a.Equal(5, Read(in m), "in parameter");
            Split(0x0000_0001_0000_0002UL, out uint high, out uint low);
            a.Equal(1, high, "out high");
            a.Equal(2, low, "out low");
        }

        private static void Null_dereference_is_caught_by_the_unmapped_page_zero(Assert a)
        {
            a.False(Kernel.Hal.Paging.IsMapped(0), "page 0 is not mapped");
            a.True(Kernel.Hal.Paging.IsMapped(0x1000), "page 1 is mapped");
        }
    }
}
