// The roots of the type system. Layout contracts with ILC are noted where they matter.
using System.Runtime.CompilerServices;

namespace System
{
    public unsafe class Object
    {
        // Layout contract: an object reference points at its MethodTable pointer.
        internal unsafe IntPtr m_pMethodTable;

        public Object() { }
        public virtual bool Equals(object obj) => (object)this == obj;
        public static bool ReferenceEquals(object a, object b) => a == b;
        public static bool Equals(object a, object b) => a == b || (a != null && b != null && a.Equals(b));
        public virtual int GetHashCode() => (int)Kernel.Core.Runtime.ObjectModel.AddressOf(this);
        public virtual string ToString() => "System.Object";
        ~Object() { }
    }

    public abstract class ValueType
    {
        public override string ToString() => "System.ValueType";
    }

    /// <summary>
    /// Enums. The image carries no metadata: the names come from tables the build generates
    /// (Kernel.Core.Runtime.EnumNames). ToString gives the member's name, a [Flags] value as the
    /// names of its bits ("Read, Write"), and the number when no member names the value.
    /// </summary>
    public abstract unsafe class Enum : ValueType
    {
        public override string ToString()
        {
            object self = this;
            ulong bits = Bits(self, out bool signed);
            string name = Kernel.Core.Runtime.EnumNames.Of(self)?.Format(bits);
            return name ?? (signed ? Number.Format((long)bits) : Number.Format(bits));
        }

        /// <summary>The boxed value's 64 bits: sign-extended for a signed underlying type (as EnumMembers keeps values).</summary>
        private static ulong Bits(object boxed, out bool signed)
        {
            byte* data = (byte*)Kernel.Core.Runtime.ObjectModel.AddressOf(boxed) + 8;
            signed = true;
            switch (Kernel.Core.Runtime.ObjectModel.MethodTableOf(boxed)->ElementType)
            {
                case 0x04: return (ulong)(long)*(sbyte*)data;
                case 0x06: return (ulong)(long)*(short*)data;
                case 0x08: return (ulong)(long)*(int*)data;
                case 0x0A: return (ulong)*(long*)data;
            }
            signed = false;
            switch (Kernel.Core.Runtime.ObjectModel.MethodTableOf(boxed)->ElementType)
            {
                case 0x02:
                case 0x05: return *data;
                case 0x03:
                case 0x07: return *(ushort*)data;
                case 0x09: return *(uint*)data;
                case 0x0B: return *(ulong*)data;
            }
            signed = true;
            return (ulong)(long)*(int*)data;
        }
    }

    public struct Void { }

    public struct Nullable<T> where T : struct
    {
        private readonly bool hasValue;
        private T value;
        public Nullable(T value) { this.value = value; hasValue = true; }
        public bool HasValue => hasValue;
        public T Value => value;
        public T GetValueOrDefault() => value;
    }


    public struct RuntimeTypeHandle { private IntPtr _value; internal RuntimeTypeHandle(IntPtr value) { _value = value; } }
    public struct RuntimeMethodHandle { private IntPtr _value; internal RuntimeMethodHandle(IntPtr value) { _value = value; } }
    public struct RuntimeFieldHandle { private IntPtr _value; internal RuntimeFieldHandle(IntPtr value) { _value = value; } }

    public abstract class Type { }
    internal sealed class RuntimeType : Type { }

    public interface IDisposable { void Dispose(); }
    public interface IEquatable<T> { bool Equals(T other); }
    public interface IComparable<T> { int CompareTo(T other); }

    public ref struct TypedReference { }
    public ref struct ArgIterator { }
    public ref struct RuntimeArgumentHandle { }

    public static class Math
    {
        public static int Min(int a, int b) => a < b ? a : b;
        public static int Max(int a, int b) => a > b ? a : b;
        public static ulong Min(ulong a, ulong b) => a < b ? a : b;
        public static ulong Max(ulong a, ulong b) => a > b ? a : b;
        public static long Abs(long a) => a < 0 ? -a : a;

        // Checked double -> integer conversions: ilc's scanner asks for these helpers whenever a
        // method has a checked conversion (e.g. `new T[ulong]`), even an integer one.
        private static int ConvertToInt32Checked(double v) { if (!(v > -2147483649.0 && v < 2147483648.0)) Overflow(); return (int)v; }
        private static uint ConvertToUInt32Checked(double v) { if (!(v > -1.0 && v < 4294967296.0)) Overflow(); return (uint)v; }
        private static long ConvertToInt64Checked(double v) { if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) Overflow(); return (long)v; }
        private static ulong ConvertToUInt64Checked(double v) { if (!(v > -1.0 && v < 18446744073709551616.0)) Overflow(); return (ulong)v; }
        private static void Overflow() => throw new OverflowException();
    }
}

namespace System.Collections
{
    // csc wants these to exist for `foreach`, even over arrays (which compile to an index loop).
    public interface IEnumerable { IEnumerator GetEnumerator(); }
    public interface IEnumerator
    {
        bool MoveNext();
        object Current { get; }
        void Reset();
    }
}

namespace System
{
    // Tuples of values: `(int, int)` return values. Fields only; no equality or formatting.
    public struct ValueTuple<T1, T2>
    {
        public T1 Item1;
        public T2 Item2;
        public ValueTuple(T1 item1, T2 item2) { Item1 = item1; Item2 = item2; }
    }

    public struct ValueTuple<T1, T2, T3>
    {
        public T1 Item1;
        public T2 Item2;
        public T3 Item3;
        public ValueTuple(T1 item1, T2 item2, T3 item3) { Item1 = item1; Item2 = item2; Item3 = item3; }
    }
}
