using System;
using System.Collections.Generic;
using System.Text;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// Ordinary C# in kernel code (docs/kernel-csharp-subset.md, "What kernel code may use"):
    /// delegates and lambdas, string building and formatting, and the core library's collections.
    /// </summary>
    public sealed unsafe class CSharpSuite : TestSuite
    {
        public CSharpSuite() : base("csharp", AnyMemory, null)
        {
            Add("A_lambda_closure_captures_and_updates_a_local", &A_lambda_closure_captures_and_updates_a_local);
            Add("A_static_method_group_becomes_a_Func", &A_static_method_group_becomes_a_Func);
            Add("A_delegate_to_an_instance_method_calls_it_on_its_target", &A_delegate_to_an_instance_method_calls_it_on_its_target);
            Add("Delegates_to_virtual_and_interface_methods_dispatch_on_the_object", &Delegates_to_virtual_and_interface_methods_dispatch_on_the_object);
            Add("An_Action_with_arguments_runs_with_them", &An_Action_with_arguments_runs_with_them);
            Add("String_plus_joins_strings_and_numbers", &String_plus_joins_strings_and_numbers);
            Add("Interpolation_fills_holes_with_alignment_and_formats", &Interpolation_fills_holes_with_alignment_and_formats);
            Add("String_Format_handles_indexes_braces_and_bad_input", &String_Format_handles_indexes_braces_and_bad_input);
            Add("Numbers_format_with_ToString", &Numbers_format_with_ToString);
            Add("An_enum_formats_as_its_members_name_or_else_its_number", &An_enum_formats_as_its_members_name_or_else_its_number);
            Add("A_Flags_enum_formats_as_the_names_of_its_bits", &A_Flags_enum_formats_as_the_names_of_its_bits);
            Add("Enums_of_every_kernel_assembly_have_their_names", &Enums_of_every_kernel_assembly_have_their_names);
            Add("StringBuilder_appends_inserts_and_clears", &StringBuilder_appends_inserts_and_clears);
            Add("List_adds_inserts_removes_sorts_and_enumerates", &List_adds_inserts_removes_sorts_and_enumerates);
            Add("List_enumeration_refuses_a_change_meanwhile", &List_enumeration_refuses_a_change_meanwhile);
            Add("Dictionary_maps_string_keys_and_grows", &Dictionary_maps_string_keys_and_grows);
            Add("Dictionary_with_int_keys_removes_and_enumerates", &Dictionary_with_int_keys_removes_and_enumerates);
            Add("Dictionary_indexer_throws_KeyNotFoundException_for_a_missing_key", &Dictionary_indexer_throws_KeyNotFoundException_for_a_missing_key);
            Add("Queue_is_first_in_first_out_across_wraparound", &Queue_is_first_in_first_out_across_wraparound);
            Add("Span_slices_fills_and_writes_through_to_the_array", &Span_slices_fills_and_writes_through_to_the_array);
        }

        // ------------------------------------------------------------ delegates

        private static void A_lambda_closure_captures_and_updates_a_local(Assert a)
        {
            int total = 0;
            Func<int, int> addToTotal = x => { total += x; return total; };
            addToTotal(3);
            int r = addToTotal(4);
            a.Equal(7, r, "the lambda's result");
            a.Equal(7, total, "the captured local was updated");
            Func<int> counter = MakeCounter();
            counter(); counter();
            a.Equal(3, counter(), "a closure keeps its own state after its maker returned");
        }

        private static Func<int> MakeCounter()
        {
            int n = 0;
            return () => ++n;
        }

        private static int Square(int x) => x * x;

        private static void A_static_method_group_becomes_a_Func(Assert a)
        {
            Func<int, int> f = Square;
            a.Equal(81, f(9), "Square via Func<int,int>");
            a.Null(f.Target, "a static method's delegate has no target");
        }

        private sealed class Greeter
        {
            public string Name;
            public string Greet(string whom) => string.Concat(Name, " greets ", whom);
        }

        private static void A_delegate_to_an_instance_method_calls_it_on_its_target(Assert a)
        {
            var g = new Greeter { Name = "kernel" };
            Func<string, string> f = g.Greet;
            a.Equal("kernel greets you", f("you"), "the instance method ran on g");
            a.Same(g, f.Target, "the target");
        }

        private interface IShape { int Area(); }
        private class Square4 : IShape { public virtual int Area() => 16; }
        private sealed class Square5 : Square4 { public override int Area() => 25; }

        private static void Delegates_to_virtual_and_interface_methods_dispatch_on_the_object(Assert a)
        {
            Square4 s = new Square5();
            Func<int> virt = s.Area;
            IShape i = new Square5();
            Func<int> viaInterface = i.Area;
            a.Equal(25, virt(), "virtual method group: the override");
            a.Equal(25, viaInterface(), "interface method group: the implementation");
        }

        private static void An_Action_with_arguments_runs_with_them(Assert a)
        {
            var seen = new List<string>();
            Action<string, int> record = (s, n) => seen.Add(string.Concat(s, "=", n.ToString()));
            record("a", 1);
            record("b", 2);
            Action clear = seen.Clear;
            a.Equal(2, seen.Count, "two calls recorded");
            a.Equal("b=2", seen[1], "arguments passed");
            clear();
            a.Equal(0, seen.Count, "an Action to List.Clear cleared it");
        }

        // ------------------------------------------------------------ strings

        private static void String_plus_joins_strings_and_numbers(Assert a)
        {
            int pages = 42;
            string s = "free " + pages + " pages, " + (-7L) + " delta, " + 'x' + " " + true;
            a.Equal("free 42 pages, -7 delta, x True", s, "concatenation");
        }

        private enum Color { Red, Green = 5 }
        private enum Delta : sbyte { Down = -1, Same, Up }
        private enum Big : ulong { Small = 1, Top = 0xFFFF_FFFF_FFFF_FFFF }
        [Flags] private enum Perm : byte { None = 0, Read = 1, Write = 2, Execute = 4, ReadWrite = Read | Write }
        [Flags] private enum Bits { One = 1, Two = 2 }

        private static void Interpolation_fills_holes_with_alignment_and_formats(Assert a)
        {
            int order = 3;
            ulong address = 0xDEAD;
            string name = "dma";
            a.Equal("zone dma order 3 at 0xDEAD", $"zone {name} order {order} at 0x{address:X}", "plain and hex holes");
            a.Equal("[   42|7    |00ff]", $"[{42,5}|{7,-5}|{255:x4}]", "alignment and width");
            a.Equal("1,234,567 pages", $"{1234567:N0} pages", "thousands");
            a.Equal("{braces} stay", $"{{braces}} stay", "escaped braces");
        }

        private static void String_Format_handles_indexes_braces_and_bad_input(Assert a)
        {
            a.Equal("b a b", string.Format("{1} {0} {1}", "a", "b"), "indexes reused and reordered");
            a.Equal("x=(null)", string.Format("x={0}", (object)null) + "(null)", "a null argument formats as nothing");
            string caught = "none";
            try { string.Format("{2}", 1, 2); }
            catch (FormatException) { caught = "FormatException"; }
            a.Equal("FormatException", caught, "an index past the arguments is refused");
            caught = "none";
            try { string.Format("{0", 1); }
            catch (FormatException) { caught = "FormatException"; }
            a.Equal("FormatException", caught, "an unclosed hole is refused");
        }

        private static void Numbers_format_with_ToString(Assert a)
        {
            a.Equal("-2147483648", int.MinValue.ToString(), "int.MinValue");
            a.Equal("18446744073709551615", ulong.MaxValue.ToString(), "ulong.MaxValue");
            a.Equal("FFFFFFFF", (-1).ToString("X"), "a negative int in hex is its 32-bit pattern");
            a.Equal("0042", 42.ToString("D4"), "D4");
            a.Equal("-1,000", (-1000L).ToString("N0"), "N0");
            a.Equal("255", ((byte)255).ToString(), "byte");
        }

        private static void An_enum_formats_as_its_members_name_or_else_its_number(Assert a)
        {
            a.Equal("Green", Color.Green.ToString(), "a member's name (the build writes the names into the image)");
            a.Equal("color Red", $"color {Color.Red}", "in interpolation too");
            a.Equal("3", ((Color)3).ToString(), "a value no member has prints as its number");
            a.Equal("Down", Delta.Down.ToString(), "a negative member of an sbyte enum");
            a.Equal("-5", ((Delta)(-5)).ToString(), "a negative value without a member keeps its sign");
            a.Equal("Top", Big.Top.ToString(), "a ulong member with the top bit set");
            a.Equal("18446744073709551614", ((Big)0xFFFF_FFFF_FFFF_FFFE).ToString(), "an unnamed ulong value prints unsigned");
            object boxed = Color.Green;
            a.Equal("Green", boxed.ToString(), "through a boxed reference");
        }

        private static void A_Flags_enum_formats_as_the_names_of_its_bits(Assert a)
        {
            a.Equal("Read, Execute", (Perm.Read | Perm.Execute).ToString(), "two bits: their names, lowest first");
            a.Equal("ReadWrite", (Perm.Read | Perm.Write).ToString(), "a value a member has exactly is that member");
            a.Equal("ReadWrite, Execute", (Perm.Read | Perm.Write | Perm.Execute).ToString(), "the biggest members that fit first");
            a.Equal("None", Perm.None.ToString(), "zero by its member");
            a.Equal("0", ((Bits)0).ToString(), "zero without a member is the number");
            a.Equal("8", ((Perm)8).ToString(), "a bit no member has: the number");
            a.Equal("9", ((Perm)9).ToString(), "a named bit with an unnamed one: the number, not half the names");
            a.Equal("3", ((Color)3).ToString(), "a plain enum does not combine names");
        }

        private static void Enums_of_every_kernel_assembly_have_their_names(Assert a)
        {
            a.True(Kernel.Core.Runtime.EnumNames.Lookups >= 5, "each kernel assembly with enums registered its name lookup");
            a.Equal("AlreadyFree", Kernel.Core.Memory.HeapFreeResult.AlreadyFree.ToString(), "the core library's");
            a.Equal("Dma32", MemoryManager.Common.ZoneType.Dma32.ToString(), "MemoryManager's, compiled into the core library");
            a.Equal("GFP_KERNEL, NoWarn", (MemoryManager.Core.Gfp.GFP_KERNEL | MemoryManager.Core.Gfp.NoWarn).ToString(), "the memory manager's [Flags] Gfp, composites included");
            a.Equal("AcpiNvs", Kernel.Hal.MemoryRegionType.AcpiNvs.ToString(), "Kernel.Hal's");
            a.Equal("Blocked", Kernel.Sched.TaskState.Blocked.ToString(), "Kernel.Sched's");
        }

        private static void StringBuilder_appends_inserts_and_clears(Assert a)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < 100; i++) sb.Append(i % 10);
            a.Equal(100, sb.Length, "grew past its first buffer");
            sb.Clear().Append("zone ").Append(7).AppendLine().Insert(0, ">> ");
            a.Equal(">> zone 7\n", sb.ToString(), "append, line, insert at 0");
            sb.AppendFormat("{0}+{1}", 1, 2);
            a.Equal(">> zone 7\n1+2", sb.ToString(), "AppendFormat");
        }

        // ------------------------------------------------------------ collections

        private static void List_adds_inserts_removes_sorts_and_enumerates(Assert a)
        {
            var list = new List<int>();
            for (int i = 10; i > 0; i--) list.Add(i);
            list.Insert(0, 99);
            list.Remove(5);
            list.RemoveAt(list.Count - 1);
            list.Sort((x, y) => x - y);
            int sum = 0;
            foreach (int x in list) sum += x;
            a.Equal(9, list.Count, "11 added or inserted, 2 removed");
            a.Equal(2, list[0], "sorted: the smallest first");
            a.Equal(99, list[list.Count - 1], "sorted: the largest last");
            a.Equal(2 + 3 + 4 + 6 + 7 + 8 + 9 + 10 + 99, sum, "foreach visits every element");
            a.Equal(7, list.Find(x => x > 6), "Find with a predicate");
            a.Equal(3, list.RemoveAll(x => x % 2 == 0 && x < 7), "RemoveAll (2, 4, 6)");
            var names = new List<string> { "b", "a" };
            a.True(names.Contains("a"), "Contains on strings compares by value");
        }

        private static void List_enumeration_refuses_a_change_meanwhile(Assert a)
        {
            var list = new List<int> { 1, 2, 3 };
            string caught = "none";
            try { foreach (int x in list) if (x == 2) list.Add(4); }
            catch (InvalidOperationException) { caught = "InvalidOperationException"; }
            a.Equal("InvalidOperationException", caught, "adding while enumerating");
        }

        private static void Dictionary_maps_string_keys_and_grows(Assert a)
        {
            var d = new Dictionary<string, int>();
            for (int i = 0; i < 200; i++) d["key" + i] = i * 2;
            a.Equal(200, d.Count, "200 keys");
            a.Equal(246, d["key123"], "lookup");
            a.True(d.TryGetValue("key7", out int v) && v == 14, "TryGetValue");
            a.False(d.ContainsKey("key200"), "absent key");
            d["key7"] = -1;
            a.Equal(-1, d["key7"], "overwrite by the indexer");
            string caught = "none";
            try { d.Add("key7", 0); }
            catch (ArgumentException) { caught = "ArgumentException"; }
            a.Equal("ArgumentException", caught, "Add of an existing key");
        }

        private static void Dictionary_with_int_keys_removes_and_enumerates(Assert a)
        {
            var d = new Dictionary<int, string>();
            for (int i = 0; i < 10; i++) d.Add(i, i.ToString());
            a.True(d.Remove(3), "removed 3");
            a.False(d.Remove(3), "3 is gone");
            d.Add(100, "hundred");
            int keys = 0, sum = 0;
            foreach (var (key, value) in d) { keys++; sum += key; a.Equal(key == 100 ? "hundred" : key.ToString(), value, "value of its key"); }
            a.Equal(10, keys, "10 entries enumerated");
            a.Equal(45 - 3 + 100, sum, "the keys");
        }

        private static void Dictionary_indexer_throws_KeyNotFoundException_for_a_missing_key(Assert a)
        {
            var d = new Dictionary<string, int> { ["a"] = 1 };
            string message = "none";
            try { int x = d["b"]; }
            catch (KeyNotFoundException e) { message = e.Message; }
            a.Equal("The given key 'b' was not present in the dictionary.", message, "message");
        }

        private static void Queue_is_first_in_first_out_across_wraparound(Assert a)
        {
            var q = new Queue<int>();
            string order = "";
            for (int i = 0; i < 3; i++) q.Enqueue(i);
            order += q.Dequeue();
            for (int i = 3; i < 9; i++) q.Enqueue(i);    // wraps and grows
            int seen = 0;
            foreach (int x in q) seen++;
            while (q.TryDequeue(out int x)) order += x;
            a.Equal("012345678", order, "dequeued in order");
            a.Equal(8, seen, "foreach saw what was queued");
            string caught = "none";
            try { q.Dequeue(); }
            catch (InvalidOperationException) { caught = "InvalidOperationException"; }
            a.Equal("InvalidOperationException", caught, "Dequeue of an empty queue");
        }

        private static void Span_slices_fills_and_writes_through_to_the_array(Assert a)
        {
            int[] pages = new int[10];
            Span<int> all = pages;
            Span<int> middle = all.Slice(3, 4);
            middle.Fill(7);
            middle[0] = 1;
            ref int last = ref middle[3];
            last = 9;
            int sum = 0;
            foreach (int x in middle) sum += x;
            a.Equal("0,0,0,1,7,7,9,0,0,0", string.Join(",", ToStrings(pages)), "writes reached the array");
            a.Equal(24, sum, "foreach over the slice");
            string caught = "none";
            try { middle[4] = 0; }
            catch (IndexOutOfRangeException) { caught = "IndexOutOfRangeException"; }
            a.Equal("IndexOutOfRangeException", caught, "a slice is bounded by its own length");
        }

        private static string[] ToStrings(int[] values)
        {
            var s = new string[values.Length];
            for (int i = 0; i < values.Length; i++) s[i] = values[i].ToString();
            return s;
        }
    }
}
