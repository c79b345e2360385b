using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernel.Core.Runtime
{
    /// <summary>The registers a frame needs to be resumed or unwound: rip, rsp and the callee-saved ones (boot/eh.asm's layout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EhContext
    {
        public ulong Rip, Rsp, Rbx, Rbp, R12, R13, R14, R15;
    }

    /// <summary>What the unwinder knows about the method a code address lies in.</summary>
    public unsafe struct MethodCodeInfo
    {
        /// <summary>Start of the FDE's range (the funclet's own start for a funclet).</summary>
        public ulong FdeStart, FdeEnd;
        /// <summary>Start of the root method (EH clause offsets are relative to it).</summary>
        public ulong MethodStart;
        /// <summary>The FDE (for the call-frame instructions) and the LSDA ilc wrote for this piece of code.</summary>
        public byte* Fde, Lsda, MainLsda;
        /// <summary>0 root method, 1 catch/finally/fault funclet, 2 filter funclet.</summary>
        public int FuncletKind;
        /// <summary>The method's EH clause table (null when it has none).</summary>
        public byte* EhInfo;
    }

    /// <summary>
    /// A DWARF call-frame unwinder over the `.eh_frame` ilc emits for linux-x64: one CIE
    /// ("zLR": LSDA and FDE pointers pc-relative sdata4) and one FDE per method and per funclet,
    /// whose instructions describe the prolog only (def_cfa_offset, offset, def_cfa_register).
    /// The FDEs are indexed once (sorted by start address) into a static table: no allocation,
    /// so the unwinder works in panics and out of memory. docs/exceptions.md describes the format.
    /// </summary>
    public static unsafe class Unwinder
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_eh_frame_bounds")]
        private static extern void Bounds(ulong* out6);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_capture_context")]
        public static extern void CaptureContext(EhContext* context);

        public const int MaxFdes = 8192;
        private struct Index { public fixed uint Start[MaxFdes]; public fixed uint End[MaxFdes]; public fixed uint Fde[MaxFdes]; }
        private static Index s_index;
        private static int s_count;
        private static bool s_ready;
        private static ulong s_codeStart, s_codeEnd, s_funcletReturnSite, s_filterThrewSite;

        /// <summary>FDEs indexed (0 before the first use).</summary>
        public static int FdeCount { get { EnsureIndex(); return s_count; } }
        public static ulong FuncletReturnSite { get { EnsureIndex(); return s_funcletReturnSite; } }
        public static ulong FilterThrewSite { get { EnsureIndex(); return s_filterThrewSite; } }

        /// <summary>Is <paramref name="address"/> in ilc-compiled code?</summary>
        public static bool IsManagedCode(ulong address) { EnsureIndex(); return address >= s_codeStart && address < s_codeEnd; }

        private static void EnsureIndex()
        {
            if (s_ready) return;
            ulong* b = stackalloc ulong[6];
            Bounds(b);
            s_codeStart = b[2]; s_codeEnd = b[3]; s_funcletReturnSite = b[4]; s_filterThrewSite = b[5];
            byte* p = (byte*)b[0], end = (byte*)b[1];
            int n = 0;
            bool sorted = true;
            fixed (uint* starts = s_index.Start) fixed (uint* ends = s_index.End) fixed (uint* fdes = s_index.Fde)
            {
                while (p + 4 <= end)
                {
                    uint length = *(uint*)p;
                    if (length == 0) break;                       // terminator
                    if (length == 0xFFFFFFFF) Panic.Fail("unwinder: 64-bit .eh_frame entries are not supported");
                    byte* entry = p;
                    p += 4 + length;
                    int ciePointer = *(int*)(entry + 4);
                    if (ciePointer == 0) continue;                // a CIE
                    byte* cie = entry + 4 - ciePointer;
                    byte fdeEncoding = CieFdeEncoding(cie);
                    byte* q = entry + 8;
                    ulong start = ReadEncoded(ref q, fdeEncoding);
                    ulong range = ReadEncoded(ref q, (byte)(fdeEncoding & 0x0F));
                    if (n == MaxFdes) Panic.Fail("unwinder: more FDEs in .eh_frame than Unwinder.MaxFdes");
                    if (n > 0 && start < starts[n - 1]) sorted = false;
                    starts[n] = (uint)start; ends[n] = (uint)(start + range); fdes[n] = (uint)(ulong)entry;
                    n++;
                }
                if (!sorted)
                    for (int i = 1; i < n; i++)   // insertion sort: runs once, and ld keeps ilc's order anyway
                    {
                        uint s = starts[i], e = ends[i], f = fdes[i];
                        int j = i - 1;
                        while (j >= 0 && starts[j] > s) { starts[j + 1] = starts[j]; ends[j + 1] = ends[j]; fdes[j + 1] = fdes[j]; j--; }
                        starts[j + 1] = s; ends[j + 1] = e; fdes[j + 1] = f;
                    }
            }
            s_count = n;
            s_ready = true;
        }

        private static ulong ReadUleb(ref byte* p)
        {
            ulong v = 0; int shift = 0;
            while (true) { byte b = *p++; v |= (ulong)(b & 0x7F) << shift; shift += 7; if ((b & 0x80) == 0) return v; }
        }

        private static long ReadSleb(ref byte* p)
        {
            long v = 0; int shift = 0; byte b;
            do { b = *p++; v |= (long)(b & 0x7F) << shift; shift += 7; } while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0) v |= -(1L << shift);
            return v;
        }

        /// <summary>A DW_EH_PE-encoded pointer (absptr, udata4, sdata4, pcrel): what ilc and ld use.</summary>
        private static ulong ReadEncoded(ref byte* p, byte encoding)
        {
            byte* at = p;
            ulong v;
            switch (encoding & 0x0F)
            {
                case 0x00: v = *(ulong*)p; p += 8; break;
                case 0x03: v = *(uint*)p; p += 4; break;
                case 0x0B: v = (ulong)(long)*(int*)p; p += 4; break;
                case 0x0C: v = *(ulong*)p; p += 8; break;
                default: Panic.Fail("unwinder: unsupported pointer encoding in .eh_frame"); return 0;
            }
            if ((encoding & 0x70) == 0x10) v += (ulong)at;
            return v;
        }

        private struct Cie
        {
            public byte* Instructions, End;
            public ulong CodeAlign;
            public long DataAlign;
            public byte FdeEncoding, LsdaEncoding;
            public bool HasAugmentationData;
        }

        private static void ParseCie(byte* cie, out Cie c)
        {
            c = default;
            uint length = *(uint*)cie;
            c.End = cie + 4 + length;
            byte* p = cie + 9;                 // length, id, version
            byte* aug = p;
            while (*p != 0) p++;
            p++;
            c.CodeAlign = ReadUleb(ref p);
            c.DataAlign = ReadSleb(ref p);
            ReadUleb(ref p);                   // return address column (16)
            c.FdeEncoding = 0; c.LsdaEncoding = 0xFF;
            if (aug[0] == (byte)'z')
            {
                c.HasAugmentationData = true;
                ulong augLength = ReadUleb(ref p);
                byte* augEnd = p + augLength;
                for (int i = 1; aug[i] != 0; i++)
                {
                    if (aug[i] == (byte)'L') c.LsdaEncoding = *p++;
                    else if (aug[i] == (byte)'R') c.FdeEncoding = *p++;
                    else if (aug[i] == (byte)'P') { byte enc = *p++; ReadEncoded(ref p, enc); }
                }
                p = augEnd;
            }
            c.Instructions = p;
        }

        private static byte CieFdeEncoding(byte* cie) { ParseCie(cie, out Cie c); return c.FdeEncoding; }

        // ilc writes one CIE for all its FDEs: the last one parsed is kept.
        private static byte* s_lastCie;
        private static Cie s_lastParsed;

        private static void CachedCie(byte* cie, out Cie c)
        {
            if (cie != s_lastCie) { ParseCie(cie, out s_lastParsed); s_lastCie = cie; }
            c = s_lastParsed;
        }

        /// <summary>The FDE covering <paramref name="address"/>, or false (assembly code, data, a wild address).</summary>
        public static bool FindMethod(ulong address, out MethodCodeInfo info)
        {
            info = default;
            EnsureIndex();
            if (address < s_codeStart || address >= s_codeEnd) return false;
            int lo = 0, hi = s_count - 1, found = -1;
            fixed (uint* starts = s_index.Start)
                while (lo <= hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (starts[mid] <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
                }
            if (found < 0) return false;
            fixed (uint* ends = s_index.End) if (address >= ends[found]) return false;
            fixed (uint* starts = s_index.Start) info.FdeStart = starts[found];
            fixed (uint* ends = s_index.End) info.FdeEnd = ends[found];
            fixed (uint* fdes = s_index.Fde) info.Fde = (byte*)(ulong)fdes[found];
            byte* fde = info.Fde;
            CachedCie(fde + 4 - *(int*)(fde + 4), out Cie cie);
            byte* q = fde + 8;
            ReadEncoded(ref q, cie.FdeEncoding);
            ReadEncoded(ref q, (byte)(cie.FdeEncoding & 0x0F));
            info.MethodStart = info.FdeStart;
            if (cie.HasAugmentationData)
            {
                ulong augLength = ReadUleb(ref q);
                byte* augEnd = q + augLength;
                if (cie.LsdaEncoding != 0xFF && augLength > 0) info.Lsda = (byte*)ReadEncoded(ref q, cie.LsdaEncoding);
                q = augEnd;
            }
            info.MainLsda = info.Lsda;
            if (info.Lsda != null)
            {
                byte flags = info.Lsda[0];
                info.FuncletKind = flags & 3;
                byte* p = info.Lsda + 1;
                if (info.FuncletKind != 0)
                {
                    info.MainLsda = p + *(int*)p;          // a funclet points at its root method's blob
                    p += 4;
                    info.MethodStart = info.FdeStart - (ulong)(long)*(int*)p;
                }
                byte* m = info.MainLsda;
                byte mainFlags = *m++;
                if ((mainFlags & 0x10) != 0) m += 4;       // associated data
                if ((mainFlags & 0x04) != 0) info.EhInfo = m + *(int*)m;
            }
            return true;
        }

        /// <summary>
        /// Moves <paramref name="ctx"/> from a frame of <paramref name="info"/>'s code to its caller by the
        /// FDE's call-frame instructions. <paramref name="exactPc"/>: ctx.Rip is the faulting
        /// instruction itself rather than a return address.
        /// </summary>
        public static bool Step(ref EhContext ctx, MethodCodeInfo info, bool exactPc)
        {
            byte* fde = info.Fde;
            CachedCie(fde + 4 - *(int*)(fde + 4), out Cie cie);
            byte* fdeEnd = fde + 4 + *(uint*)fde;
            byte* q = fde + 8;
            ReadEncoded(ref q, cie.FdeEncoding);
            ReadEncoded(ref q, (byte)(cie.FdeEncoding & 0x0F));
            if (cie.HasAugmentationData) { ulong augLength = ReadUleb(ref q); q += augLength; }

            // Where the row is wanted: inside the call for a return address (it may be the next function's first byte).
            ulong target = exactPc ? ctx.Rip : ctx.Rip - 1;
            int cfaReg = 7; long cfaOffset = 8;
            long* saved = stackalloc long[17];      // offset from the CFA, 0 = not saved
            for (int i = 0; i < 17; i++) saved[i] = 0;
            ulong loc = info.FdeStart;
            if (!Run(cie.Instructions, cie.End, ref cie, ref loc, target, ref cfaReg, ref cfaOffset, saved)) return false;
            loc = info.FdeStart;
            if (!Run(q, fdeEnd, ref cie, ref loc, target, ref cfaReg, ref cfaOffset, saved)) return false;

            ulong cfaBase = cfaReg == 7 ? ctx.Rsp : cfaReg == 6 ? ctx.Rbp : 0;
            if (cfaBase == 0) return false;
            ulong cfa = cfaBase + (ulong)cfaOffset;
            EhContext next = ctx;
            if (saved[3] != 0) next.Rbx = *(ulong*)(cfa + (ulong)saved[3]);
            if (saved[6] != 0) next.Rbp = *(ulong*)(cfa + (ulong)saved[6]);
            if (saved[12] != 0) next.R12 = *(ulong*)(cfa + (ulong)saved[12]);
            if (saved[13] != 0) next.R13 = *(ulong*)(cfa + (ulong)saved[13]);
            if (saved[14] != 0) next.R14 = *(ulong*)(cfa + (ulong)saved[14]);
            if (saved[15] != 0) next.R15 = *(ulong*)(cfa + (ulong)saved[15]);
            next.Rip = *(ulong*)(cfa + (ulong)(saved[16] != 0 ? saved[16] : -8));
            next.Rsp = cfa;
            ctx = next;
            return true;
        }

        private static bool Run(byte* p, byte* end, ref Cie cie, ref ulong loc, ulong target, ref int cfaReg, ref long cfaOffset, long* saved)
        {
            while (p < end)
            {
                byte op = *p++;
                byte high = (byte)(op & 0xC0), low = (byte)(op & 0x3F);
                if (high == 0x40) { loc += low * cie.CodeAlign; if (loc > target) return true; continue; }
                if (high == 0x80) { long off = (long)ReadUleb(ref p) * cie.DataAlign; if (low <= 16) saved[low] = off; continue; }
                if (high == 0xC0) { if (low <= 16) saved[low] = 0; continue; }
                switch (op)
                {
                    case 0x00: break;                                                   // nop
                    case 0x02: loc += *p++ * cie.CodeAlign; if (loc > target) return true; break;
                    case 0x03: loc += *(ushort*)p * cie.CodeAlign; p += 2; if (loc > target) return true; break;
                    case 0x04: loc += *(uint*)p * cie.CodeAlign; p += 4; if (loc > target) return true; break;
                    case 0x05: { ulong r = ReadUleb(ref p); long off = (long)ReadUleb(ref p) * cie.DataAlign; if (r <= 16) saved[r] = off; break; }
                    case 0x0C: cfaReg = (int)ReadUleb(ref p); cfaOffset = (long)ReadUleb(ref p); break;   // def_cfa
                    case 0x0D: cfaReg = (int)ReadUleb(ref p); break;                                       // def_cfa_register
                    case 0x0E: cfaOffset = (long)ReadUleb(ref p); break;                                   // def_cfa_offset
                    case 0x07: { ulong r = ReadUleb(ref p); if (r <= 16) saved[r] = 0; break; }           // undefined
                    case 0x08: { ulong r = ReadUleb(ref p); if (r <= 16) saved[r] = 0; break; }           // same_value
                    default: return false;                                              // not something ilc emits
                }
            }
            return true;
        }

        /// <summary>
        /// The caller of the frame in <paramref name="ctx"/> whatever code it is in: by the FDE for
        /// ilc's code, else by the frame-pointer chain (assembly that keeps rbp). False at the end.
        /// </summary>
        public static bool StepAny(ref EhContext ctx, bool exactPc, ulong stackBottom, ulong stackTop)
        {
            if (FindMethod(exactPc ? ctx.Rip : ctx.Rip - 1, out MethodCodeInfo info))
            {
                if (!Step(ref ctx, info, exactPc)) return false;
            }
            else
            {
                ulong rbp = ctx.Rbp;
                if (rbp < stackBottom || rbp + 16 > stackTop || (rbp & 7) != 0) return false;
                ctx.Rip = *(ulong*)(rbp + 8);
                ctx.Rsp = rbp + 16;
                ctx.Rbp = *(ulong*)rbp;
            }
            return ctx.Rip != 0 && ctx.Rsp >= stackBottom && ctx.Rsp < stackTop;
        }
    }
}
