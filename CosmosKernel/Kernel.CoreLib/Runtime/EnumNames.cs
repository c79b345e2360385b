using System;
using System.Collections.Generic;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// The members of one enum type: names and values in declaration order, and whether the type
    /// is [Flags]. Filled by code the build generates (Kernel.Patcher's EnumNamer adds to every
    /// kernel assembly a method that, given a boxed enum of one of its types, calls
    /// <see cref="Add"/> once per member); read by <see cref="Enum.ToString"/>. A value is kept as
    /// its 64 bits: a signed underlying type sign-extended, an unsigned one zero-extended.
    /// </summary>
    public sealed class EnumMembers
    {
        private string[] _names = new string[8];
        private ulong[] _values = new ulong[8];
        private int _count;
        private bool _flags;
        private int[] _descending;   // member indexes by value, highest first (for [Flags]), made on first use

        public int Count => _count;
        public bool IsFlags => _flags;
        public string NameAt(int i) => _names[i];
        public ulong ValueAt(int i) => _values[i];

        /// <summary>One member (generated code calls this in declaration order).</summary>
        public void Add(string name, ulong value)
        {
            if (_count == _names.Length)
            {
                var n = new string[_count * 2];
                var v = new ulong[_count * 2];
                for (int i = 0; i < _count; i++) { n[i] = _names[i]; v[i] = _values[i]; }
                _names = n;
                _values = v;
            }
            _names[_count] = name;
            _values[_count] = value;
            _count++;
        }

        /// <summary>The type carries [Flags] (generated code calls this after the members).</summary>
        public void MarkFlags() => _flags = true;

        /// <summary>
        /// The name <see cref="Enum.ToString"/> gives <paramref name="value"/>, as .NET does: the
        /// first member with that value; for a [Flags] type without one, the members whose bits
        /// make up the value, taken from the highest value down and listed lowest first, joined
        /// by ", " ("Read, Write"). Null when no member or combination names it (the caller then
        /// prints the number).
        /// </summary>
        public string Format(ulong value)
        {
            for (int i = 0; i < _count; i++) if (_values[i] == value) return _names[i];
            if (!_flags || value == 0) return null;
            if (_descending == null) _descending = Descending();
            ulong rest = value;
            int picked = 0;
            var chosen = new int[_count];
            for (int k = 0; k < _count && rest != 0; k++)
            {
                int i = _descending[k];
                ulong v = _values[i];
                if (v != 0 && (rest & v) == v)
                {
                    chosen[picked++] = i;
                    rest &= ~v;
                }
            }
            if (rest != 0) return null;
            var parts = new string[picked];
            for (int p = 0; p < picked; p++) parts[p] = _names[chosen[picked - 1 - p]];   // lowest value first
            return string.Join(", ", parts);
        }

        private int[] Descending()
        {
            var order = new int[_count];
            for (int i = 0; i < _count; i++)
            {
                int j = i;
                // stable: among equal values the first declared comes first
                while (j > 0 && _values[order[j - 1]] < _values[i]) { order[j] = order[j - 1]; j--; }
                order[j] = i;
            }
            return order;
        }
    }

    /// <summary>
    /// Where <see cref="Enum.ToString"/> finds an enum's members: the lookups the build generated,
    /// one per kernel assembly, each registered by its assembly's module initializer
    /// (Kernel.Patcher's EnumNamer; docs/kernel-csharp-subset.md, "Strings"). The image has no
    /// metadata, so this is the only place enum names exist.
    /// </summary>
    public static unsafe class EnumNames
    {
        /// <summary>Lookups that may register (one per kernel assembly).</summary>
        public const int MaxLookups = 16;
        private struct LookupStore { public fixed ulong Functions[MaxLookups]; }
        private static LookupStore s_lookups;   // plain statics: registration runs during module initialisation
        private static int s_count;
        private static Dictionary<ulong, EnumMembers> s_known;   // by MethodTable address

        public static int Lookups => s_count;

        /// <summary>
        /// Registers a generated lookup: a <c>static bool Lookup(object boxed, EnumMembers into)</c>
        /// that fills <c>into</c> and returns true when the boxed value's enum type is one of its
        /// assembly's. Called by generated module initializers.
        /// </summary>
        public static void Register(nint lookup)
        {
            if (s_count == MaxLookups) Panic.Fail("enum names: more assemblies registered name lookups than EnumNames.MaxLookups");
            s_lookups.Functions[s_count++] = (ulong)lookup;
        }

        /// <summary>The members of the enum type of <paramref name="boxed"/>, or null when no lookup knows it.</summary>
        public static EnumMembers Of(object boxed)
        {
            ulong mt = (ulong)ObjectModel.MethodTableOf(boxed);
            s_known ??= new Dictionary<ulong, EnumMembers>();
            if (s_known.TryGetValue(mt, out EnumMembers known)) return known;
            EnumMembers found = null;
            for (int i = 0; i < s_count && found == null; i++)
            {
                var members = new EnumMembers();
                if (((delegate*<object, EnumMembers, bool>)s_lookups.Functions[i])(boxed, members)) found = members;
            }
            s_known[mt] = found;
            return found;
        }
    }
}
