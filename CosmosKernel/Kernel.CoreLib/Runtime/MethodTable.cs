using System.Runtime.InteropServices;

namespace Internal.Runtime
{
    /// <summary>
    /// The head of a .NET 10 NativeAOT MethodTable. After it: the vtable (NumVtableSlots
    /// pointers), the interface map (NumInterfaces pointers), then 32-bit relative pointers:
    /// TypeManager, WritableData, [DispatchMap], [Finalizer], [SealedVTable], ...
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct MethodTable
    {
        public ushort ComponentSize;   // low 16 bits of the flags word (arrays, strings)
        public ushort Flags;           // high 16 bits of the flags word
        public uint BaseSize;          // includes the 8-byte object header
        public MethodTable* RelatedType; // base type; element type for arrays
        public ushort NumVtableSlots;
        public ushort NumInterfaces;
        public uint HashCode;

        // Flags (high half of the 32-bit flags word).
        public const ushort KindMask = 0x0003;          // 0 canonical, 1 function pointer, 2 parameterized (array, pointer), 3 generic definition
        public const ushort HasDispatchMapFlag = 0x0004;
        public const ushort HasFinalizerFlag = 0x0010;
        public const ushort HasSealedVTableFlag = 0x0040;
        public const ushort ElementTypeShift = 10;      // bits 26..30 of the word
        public const ushort ElementTypeMask = 0x7C00;
        public const byte ElementTypeInterface = 0x15;
        public const byte ElementTypeSzArray = 0x18;

        public bool IsParameterized => (Flags & KindMask) == 2;
        public byte ElementType => (byte)((Flags & ElementTypeMask) >> ElementTypeShift);
        public bool IsInterface => ElementType == ElementTypeInterface;

        /// <summary>The interface map of <paramref name="mt"/>.</summary>
        public static MethodTable** InterfaceMap(MethodTable* mt)
            => (MethodTable**)((byte*)mt + sizeof(MethodTable) + 8 * mt->NumVtableSlots);

        /// <summary>The vtable slots of <paramref name="mt"/>.</summary>
        public static void** VTable(MethodTable* mt) => (void**)((byte*)mt + sizeof(MethodTable));

        /// <summary>Where the optional relative pointers after TypeManager and WritableData start.</summary>
        public static byte* OptionalFields(MethodTable* mt)
            => (byte*)mt + sizeof(MethodTable) + 8 * mt->NumVtableSlots + 8 * mt->NumInterfaces + 4 + 4;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct ReadyToRunHeader
    {
        public uint Signature;         // 'RTR\0' = 0x00525452
        public ushort MajorVersion;
        public ushort MinorVersion;
        public uint Flags;
        public ushort NumberOfSections;
        public byte EntrySize;
        public byte EntryType;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct ModuleInfoRow
    {
        public int SectionId;
        public int Flags;
        public nint Start;
        public nint End;
    }
}
