// Casting, array-store and boxing helpers. ILC resolves them by type and method name in the
// system module, so the names and signatures are fixed.
using Internal.Runtime;
using Kernel.Core.Runtime;

namespace System.Runtime
{
    internal static unsafe class TypeCast
    {
        private static MethodTable* MT(object o) => ObjectModel.MethodTableOf(o);

        /// <summary>Is <paramref name="from"/> the class <paramref name="to"/> or derived from it?</summary>
        internal static bool IsSubclassOrSame(MethodTable* from, MethodTable* to)
        {
            if (from == to) return true;
            if (IsSystemObject(to)) return true;   // every type, arrays included, is an object
            if (from->IsParameterized) return false; // arrays: RelatedType is the element type, not a base
            for (MethodTable* t = from->RelatedType; t != null; t = t->RelatedType) if (t == to) return true;
            return false;
        }

        /// <summary>System.Object is the one canonical class without a base type.</summary>
        private static bool IsSystemObject(MethodTable* mt)
            => mt->RelatedType == null && (mt->Flags & MethodTable.KindMask) == 0 && !mt->IsInterface;

        /// <summary>Does <paramref name="from"/> (or a base) list <paramref name="itf"/> in its interface map?</summary>
        internal static bool ImplementsInterface(MethodTable* from, MethodTable* itf)
        {
            for (MethodTable* t = from; t != null; t = t->IsParameterized ? null : t->RelatedType)
            {
                MethodTable** map = MethodTable.InterfaceMap(t);
                for (int i = 0; i < t->NumInterfaces; i++) if (map[i] == itf) return true;
            }
            return false;
        }

        internal static bool IsAssignable(MethodTable* from, MethodTable* to)
            => to->IsInterface ? ImplementsInterface(from, to) : IsSubclassOrSame(from, to);

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private static void InvalidCast() => throw new InvalidCastException();

        public static object IsInstanceOfClass(MethodTable* pTargetType, object obj)
            => obj == null || IsSubclassOrSame(MT(obj), pTargetType) ? obj : null;

        public static object CheckCastClass(MethodTable* pTargetType, object obj)
        {
            if (obj == null || IsSubclassOrSame(MT(obj), pTargetType)) return obj;
            InvalidCast(); return null;
        }

        public static object CheckCastClassSpecial(MethodTable* pTargetType, object obj) => CheckCastClass(pTargetType, obj);

        public static object IsInstanceOfInterface(MethodTable* pTargetType, object obj)
            => obj == null || ImplementsInterface(MT(obj), pTargetType) ? obj : null;

        public static object CheckCastInterface(MethodTable* pTargetType, object obj)
        {
            if (obj == null || ImplementsInterface(MT(obj), pTargetType)) return obj;
            InvalidCast(); return null;
        }

        public static object IsInstanceOfAny(MethodTable* pTargetType, object obj)
            => obj == null || IsAssignable(MT(obj), pTargetType) ? obj : null;

        public static object CheckCastAny(MethodTable* pTargetType, object obj)
        {
            if (obj == null || IsAssignable(MT(obj), pTargetType)) return obj;
            InvalidCast(); return null;
        }

        public static bool IsInstanceOfException(MethodTable* pTargetType, object obj)
            => obj != null && IsSubclassOrSame(MT(obj), pTargetType);

        /// <summary>stelem.ref: bounds check, then the array-covariance check.</summary>
        public static void StelemRef(object[] array, nint index, object obj)
        {
            if ((nuint)index >= (nuint)array.Length) throw new IndexOutOfRangeException();
            if (obj != null)
            {
                MethodTable* element = MT(array)->RelatedType;
                MethodTable* actual = MT(obj);
                if (actual != element && !IsAssignable(actual, element))
                    throw new ArrayTypeMismatchException();
            }
            byte* p = (byte*)ObjectModel.AddressOf(array) + 16 + index * 8;
            *(void**)p = obj == null ? null : ObjectModel.AddressOf(obj);
        }

        public static ref object LdelemaRef(object[] array, nint index, MethodTable* elementType)
        {
            if ((nuint)index >= (nuint)array.Length) throw new IndexOutOfRangeException();
            if (MT(array)->RelatedType != elementType)
                throw new ArrayTypeMismatchException();
            byte* p = (byte*)ObjectModel.AddressOf(array) + 16 + index * 8;
            return ref *(object*)p;
        }
    }

    internal static unsafe class RuntimeExports
    {
        public static object RhBox(MethodTable* pEEType, ref byte data)
        {
            object o = Allocator.RhpNewFast(pEEType);
            byte* dst = (byte*)ObjectModel.AddressOf(o) + 8;
            nuint n = pEEType->BaseSize - 16;
            fixed (byte* src = &data) for (nuint i = 0; i < n; i++) dst[i] = src[i];
            return o;
        }

        public static object RhBoxAny(ref byte data, MethodTable* pEEType) => RhBox(pEEType, ref data);

        public static ref byte RhUnbox2(MethodTable* pUnboxToEEType, object obj)
        {
            if (obj == null) throw new NullReferenceException();
            if (MT(obj) != pUnboxToEEType) throw new InvalidCastException();
            return ref *((byte*)ObjectModel.AddressOf(obj) + 8);
        }

        public static void RhUnboxNullable(ref byte data, MethodTable* pUnboxToEEType, object obj)
            => Panic.Fail("NotSupportedException: unboxing to Nullable<T>");

        public static void RhUnboxTypeTest(MethodTable* pType, MethodTable* pBoxType)
        {
            if (pType != pBoxType) throw new InvalidCastException();
        }

        private static MethodTable* MT(object o) => ObjectModel.MethodTableOf(o);
    }
}

namespace System
{
    public static unsafe class Buffer
    {
        /// <summary>Copies <paramref name="byteCount"/> bytes; overlapping ranges are handled.</summary>
        public static void Memmove(ref byte destination, ref byte source, nuint byteCount)
        {
            fixed (byte* d = &destination) fixed (byte* s = &source) MemoryMove(d, s, byteCount);
        }

        public static void MemoryMove(byte* d, byte* s, nuint byteCount)
        {
            if (d <= s || d >= s + byteCount)
            {
                nuint i = 0;
                for (; i + 8 <= byteCount; i += 8) *(ulong*)(d + i) = *(ulong*)(s + i);
                for (; i < byteCount; i++) d[i] = s[i];
            }
            else for (nuint i = byteCount; i > 0; i--) d[i - 1] = s[i - 1];
        }

        // No collector: a copy of a struct holding references is a plain copy.
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint byteCount)
            => Memmove(ref destination, ref source, byteCount);
    }

    internal static unsafe class SpanHelpers
    {
        public static void Memmove(ref byte dest, ref byte src, nuint len) => Buffer.Memmove(ref dest, ref src, len);

        public static void Fill(ref byte dest, byte value, nuint len)
        {
            fixed (byte* d = &dest) for (nuint i = 0; i < len; i++) d[i] = value;
        }

        public static void ClearWithoutReferences(ref byte dest, nuint len)
        {
            fixed (byte* d = &dest)
            {
                nuint i = 0;
                for (; i + 8 <= len; i += 8) *(ulong*)(d + i) = 0;
                for (; i < len; i++) d[i] = 0;
            }
        }

        public static void ClearWithReferences(ref IntPtr ip, nuint pointerSizeLength)
        {
            fixed (IntPtr* p = &ip) for (nuint i = 0; i < pointerSizeLength; i++) p[i] = 0;
        }
    }
}

namespace System.Runtime.CompilerServices
{
    /// <summary>Runs a lazy class constructor the first time its statics are touched.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct StaticClassConstructionContext
    {
        public IntPtr cctorMethodAddress;
    }

    internal static unsafe class ClassConstructorRunner
    {
        private static object CheckStaticClassConstructionReturnGCStaticBase(ref StaticClassConstructionContext context, object gcStaticBase)
        {
            EnsureClassConstructorRun(ref context);
            return gcStaticBase;
        }

        private static IntPtr CheckStaticClassConstructionReturnNonGCStaticBase(ref StaticClassConstructionContext context, IntPtr nonGcStaticBase)
        {
            EnsureClassConstructorRun(ref context);
            return nonGcStaticBase;
        }

        private static void EnsureClassConstructorRun(ref StaticClassConstructionContext context)
        {
            IntPtr address = context.cctorMethodAddress;
            if (address == 0) return;
            context.cctorMethodAddress = 0; // one CPU, no threads: no lock needed
            ((delegate*<void>)address)();
        }
    }
}

namespace Internal.Runtime.CompilerHelpers
{
    using System;
    using Kernel.Core.Runtime;

    // ILC requires this class to exist in the system module.
    internal static class StartupCodeHelpers { }

    // ldtoken: ILC turns tokens into calls to these (array initialisers load a field token).
    internal static class LdTokenHelpers
    {
        private static RuntimeTypeHandle GetRuntimeTypeHandle(IntPtr pEEType) => new RuntimeTypeHandle(pEEType);
        private static RuntimeMethodHandle GetRuntimeMethodHandle(IntPtr pHandleSignature) => new RuntimeMethodHandle(pHandleSignature);
        private static RuntimeFieldHandle GetRuntimeFieldHandle(IntPtr pHandleSignature) => new RuntimeFieldHandle(pHandleSignature);
        private static Type GetRuntimeType(IntPtr pEEType)
        {
            Panic.Fail("NotSupportedException: typeof() needs reflection, which the kernel does not carry");
            return null;
        }
    }

    // Helpers ILC's generated code calls to throw (range checks, null checks, checked arithmetic, casts).
    internal static class ThrowHelpers
    {
        private static void ThrowOverflowException() => throw new OverflowException();
        private static void ThrowIndexOutOfRangeException() => throw new IndexOutOfRangeException();
        private static void ThrowNullReferenceException() => throw new NullReferenceException();
        private static void ThrowDivideByZeroException() => throw new DivideByZeroException();
        private static void ThrowArgumentOutOfRangeException() => throw new ArgumentOutOfRangeException();
        private static void ThrowArgumentException() => throw new ArgumentException();
        private static void ThrowPlatformNotSupportedException() => throw new PlatformNotSupportedException();
        private static void ThrowNotImplementedException() => throw new NotImplementedException();
        private static void ThrowFeatureBodyRemoved() => Panic.Fail("FeatureBodyRemoved");
        private static void ThrowTypeLoadException() => Panic.Fail("TypeLoadException");
        private static void ThrowInvalidProgramException() => Panic.Fail("InvalidProgramException");
        private static void ThrowMissingMethodException() => Panic.Fail("MissingMethodException");
        private static void ThrowMissingFieldException() => Panic.Fail("MissingFieldException");
        private static void ThrowBadImageFormatException() => Panic.Fail("BadImageFormatException");
        private static void ThrowMarshalDirectiveException() => Panic.Fail("MarshalDirectiveException");
        private static void ThrowAmbiguousMatchException() => Panic.Fail("AmbiguousMatchException");
        private static void ThrowInvalidCastException() => throw new InvalidCastException();
        private static void ThrowArrayTypeMismatchException() => throw new ArrayTypeMismatchException();
    }
}
