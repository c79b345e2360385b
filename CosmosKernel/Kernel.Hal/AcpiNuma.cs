namespace Kernel.Hal
{
    /// <summary>What stopped the SRAT/SLIT reader (the machine then boots as one node).</summary>
    public enum NumaError : byte
    {
        None = 0,
        /// <summary>The ACPI tables list no SRAT: one node, as on a machine without NUMA.</summary>
        NoSrat,
        SratTooShort,
        /// <summary>An affinity structure's length runs past the table or is shorter than its type needs.</summary>
        SratEntryBroken,
        /// <summary>More proximity domains than <see cref="NumaInfo.MaxNodes"/>.</summary>
        TooManyNodes,
        /// <summary>More memory ranges than <see cref="NumaInfo.MaxRanges"/>.</summary>
        TooManyRanges,
        /// <summary>The SRAT names no enabled memory range.</summary>
        NoMemoryAffinity,
        /// <summary>Two memory ranges of the SRAT overlap.</summary>
        RangesOverlap,
        /// <summary>The SRAT's ranges leave usable RAM of the memory map without a node.</summary>
        RamNotCovered,
    }

    /// <summary>What the SLIT said (the distances are 10/20 defaults unless it is Ok).</summary>
    public enum SlitState : byte
    {
        /// <summary>No SLIT: every node is 20 from the others.</summary>
        Absent = 0,
        Ok,
        /// <summary>Too short for its locality count, or fewer localities than the SRAT's domains.</summary>
        Broken,
        /// <summary>A diagonal entry other than 10, or an off-diagonal entry of 10 or less (or 255, unreachable).</summary>
        BadDistance,
    }

    /// <summary>
    /// The NUMA layout the firmware describes: the SRAT's memory affinity ranges by node (proximity
    /// domains numbered in order of first appearance, as Linux's acpi_map_pxm_to_node does) and the
    /// SLIT's distances between them. Plain data, filled before any heap exists.
    /// </summary>
    public unsafe struct NumaInfo
    {
        public const int MaxNodes = 8, MaxRanges = 32;
        /// <summary>SRAT memory affinity flags: Enabled (bit 0), HotPluggable (bit 1).</summary>
        public const uint MemEnabled = 1, MemHotPluggable = 2;

        public NumaError Error;
        public SlitState Slit;
        /// <summary>Nodes (proximity domains with memory or a processor); 0 when there is no usable SRAT.</summary>
        public int NodeCount;
        public int RangeCount;
        /// <summary>Processor affinity entries (enabled) the SRAT lists.</summary>
        public int Processors;
        private fixed ulong m_base[MaxRanges];
        private fixed ulong m_length[MaxRanges];
        private fixed byte m_node[MaxRanges];
        private fixed byte m_hotplug[MaxRanges];
        private fixed uint m_pxm[MaxNodes];
        private fixed byte m_distance[MaxNodes * MaxNodes];

        public ulong RangeBase(int i) => (uint)i < (uint)RangeCount ? m_base[i] : 0;
        public ulong RangeLength(int i) => (uint)i < (uint)RangeCount ? m_length[i] : 0;
        public int RangeNode(int i) => (uint)i < (uint)RangeCount ? m_node[i] : -1;
        public bool RangeHotPluggable(int i) => (uint)i < (uint)RangeCount && m_hotplug[i] != 0;
        /// <summary>The proximity domain the firmware gave node <paramref name="nid"/>.</summary>
        public uint Pxm(int nid) => (uint)nid < (uint)NodeCount ? m_pxm[nid] : 0;

        /// <summary>node_distance: the SLIT's value, else 10 to itself and 20 to the others.</summary>
        public int Distance(int from, int to)
        {
            if ((uint)from >= (uint)NodeCount || (uint)to >= (uint)NodeCount) return 0;
            if (Slit == SlitState.Ok) return m_distance[from * MaxNodes + to];
            return from == to ? 10 : 20;
        }

        /// <summary>The node whose SRAT range holds <paramref name="address"/>, and where that range ends; -1 if none does.</summary>
        public int NodeOf(ulong address, out ulong rangeEnd)
        {
            rangeEnd = 0;
            for (int i = 0; i < RangeCount; i++)
                if (address >= m_base[i] && address - m_base[i] < m_length[i]) { rangeEnd = m_base[i] + m_length[i]; return m_node[i]; }
            return -1;
        }

        /// <summary>The node of proximity domain <paramref name="pxm"/>, numbering it if it is new; -1 when the table is full.</summary>
        public int NodeForPxm(uint pxm)
        {
            for (int n = 0; n < NodeCount; n++) if (m_pxm[n] == pxm) return n;
            if (NodeCount == MaxNodes) return -1;
            m_pxm[NodeCount] = pxm;
            return NodeCount++;
        }

        public bool AddRange(ulong baseAddress, ulong length, int nid, bool hotplug)
        {
            if (RangeCount == MaxRanges) return false;
            m_base[RangeCount] = baseAddress;
            m_length[RangeCount] = length;
            m_node[RangeCount] = (byte)nid;
            m_hotplug[RangeCount] = hotplug ? (byte)1 : (byte)0;
            RangeCount++;
            return true;
        }

        public void SetDistance(int from, int to, byte d) => m_distance[from * MaxNodes + to] = d;
    }

    /// <summary>
    /// Reads the ACPI SRAT (System Resource Affinity Table: which memory ranges and processors
    /// belong to which proximity domain) and SLIT (System Locality Information Table: the distance
    /// matrix) that <see cref="Acpi.Init"/> listed, so the buddy heap can give each node its own
    /// zones. Allocates nothing; <see cref="Init"/> runs before any heap exists.
    /// </summary>
    public static unsafe class AcpiNuma
    {
        /// <summary>SRAT: the header, then 4 reserved bytes (revision 1) and 8 more: affinity structures start here.</summary>
        public const uint SratEntriesOffset = Acpi.HeaderLength + 12;
        /// <summary>SLIT: the header, then the locality count (8 bytes), then count x count bytes.</summary>
        public const uint SlitEntriesOffset = Acpi.HeaderLength + 8;
        public const byte ProcessorAffinity = 0, MemoryAffinity = 1, X2ApicAffinity = 2;

        private static NumaInfo s_info;

        /// <summary>What <see cref="Init"/> found (NodeCount 0: boot as one node).</summary>
        public static ref NumaInfo Info => ref s_info;

        /// <summary>Reads the SRAT and SLIT the ACPI reader found, then checks the SRAT covers the usable RAM below <paramref name="ramLimit"/>.</summary>
        public static void Init(ulong ramLimit)
        {
            s_info = default;
            if (!Acpi.FindTable("SRAT", out ulong srat, out uint sratLength)) { s_info.Error = NumaError.NoSrat; return; }
            ulong slit = 0;
            uint slitLength = 0;
            if (!Acpi.FindTable("SLIT", out slit, out slitLength)) slit = 0;
            Parse((byte*)srat, sratLength, (byte*)slit, slitLength, ref s_info);
            if (s_info.Error == NumaError.None && !CoversUsableRam(ref s_info, ramLimit)) s_info.Error = NumaError.RamNotCovered;
            if (s_info.Error != NumaError.None) s_info.NodeCount = 0;
        }

        /// <summary>
        /// Parses an SRAT (and a SLIT, or null) into <paramref name="info"/>: enabled memory
        /// affinity structures become ranges of the node their proximity domain maps to, enabled
        /// processor affinity structures are counted (and number their domain). Checks lengths,
        /// overlaps and the SLIT's distances; on an error info.Error says which.
        /// </summary>
        public static void Parse(byte* srat, uint sratLength, byte* slit, uint slitLength, ref NumaInfo info)
        {
            info = default;
            if (srat == null || sratLength < SratEntriesOffset) { info.Error = NumaError.SratTooShort; return; }
            for (uint at = SratEntriesOffset; at < sratLength;)
            {
                if (sratLength - at < 2) { info.Error = NumaError.SratEntryBroken; return; }
                byte type = srat[at], length = srat[at + 1];
                if (length < 2 || length > sratLength - at) { info.Error = NumaError.SratEntryBroken; return; }
                byte* e = srat + at;
                if (type == MemoryAffinity)
                {
                    if (length < 40) { info.Error = NumaError.SratEntryBroken; return; }
                    uint pxm = *(uint*)(e + 2);
                    ulong baseAddress = *(uint*)(e + 8) | (ulong)*(uint*)(e + 12) << 32;
                    ulong len = *(uint*)(e + 16) | (ulong)*(uint*)(e + 20) << 32;
                    uint flags = *(uint*)(e + 28);
                    if ((flags & NumaInfo.MemEnabled) != 0 && len != 0)
                    {
                        int nid = info.NodeForPxm(pxm);
                        if (nid < 0) { info.Error = NumaError.TooManyNodes; return; }
                        for (int i = 0; i < info.RangeCount; i++)
                            if (baseAddress < info.RangeBase(i) + info.RangeLength(i) && info.RangeBase(i) < baseAddress + len) { info.Error = NumaError.RangesOverlap; return; }
                        if (!info.AddRange(baseAddress, len, nid, (flags & NumaInfo.MemHotPluggable) != 0)) { info.Error = NumaError.TooManyRanges; return; }
                    }
                }
                else if (type == ProcessorAffinity)
                {
                    if (length < 16) { info.Error = NumaError.SratEntryBroken; return; }
                    uint pxm = e[2] | (uint)e[9] << 8 | (uint)e[10] << 16 | (uint)e[11] << 24;
                    if ((*(uint*)(e + 4) & 1) != 0)
                    {
                        if (info.NodeForPxm(pxm) < 0) { info.Error = NumaError.TooManyNodes; return; }
                        info.Processors++;
                    }
                }
                at += length;
            }
            if (info.RangeCount == 0) { info.Error = NumaError.NoMemoryAffinity; return; }
            info.Slit = slit == null ? SlitState.Absent : ReadSlit(slit, slitLength, ref info);
        }

        /// <summary>The SLIT's distances between the SRAT's domains (indexed by proximity domain, as ACPI numbers localities).</summary>
        private static SlitState ReadSlit(byte* slit, uint length, ref NumaInfo info)
        {
            if (length < SlitEntriesOffset) return SlitState.Broken;
            ulong count = *(ulong*)(slit + Acpi.HeaderLength);
            if (count == 0 || count > 256 || length < SlitEntriesOffset + count * count) return SlitState.Broken;
            for (int f = 0; f < info.NodeCount; f++)
                if (info.Pxm(f) >= count) return SlitState.Broken;
            for (int f = 0; f < info.NodeCount; f++)
                for (int t = 0; t < info.NodeCount; t++)
                {
                    byte d = slit[SlitEntriesOffset + info.Pxm(f) * count + info.Pxm(t)];
                    if (f == t ? d != 10 : (d <= 10 || d == 255)) return SlitState.BadDistance;
                    info.SetDistance(f, t, d);
                }
            return SlitState.Ok;
        }

        /// <summary>Every usable region of the memory map below <paramref name="ramLimit"/> lies in some SRAT range (Linux: "NUMA: nodes only cover ..." otherwise).</summary>
        private static bool CoversUsableRam(ref NumaInfo info, ulong ramLimit)
        {
            for (int r = 0; r < BootInfo.RegionCount; r++)
            {
                MemoryRegion region = BootInfo.Region(r);
                if (region.Type != MemoryRegionType.Usable) continue;
                ulong s = region.Base, e = region.End < ramLimit ? region.End : ramLimit;
                while (s < e)
                {
                    if (info.NodeOf(s, out ulong end) < 0) return false;
                    s = end;
                }
            }
            return true;
        }

        public static string Describe(NumaError e) => e switch
        {
            NumaError.None => "ok",
            NumaError.NoSrat => "no SRAT (one node)",
            NumaError.SratTooShort => "the SRAT is shorter than its header",
            NumaError.SratEntryBroken => "an SRAT affinity structure is cut short or runs past the table",
            NumaError.TooManyNodes => "the SRAT names more than 8 proximity domains",
            NumaError.TooManyRanges => "the SRAT lists more than 32 memory ranges",
            NumaError.NoMemoryAffinity => "the SRAT gives no enabled memory range",
            NumaError.RangesOverlap => "two SRAT memory ranges overlap",
            _ => "the SRAT's memory ranges leave usable RAM without a node",
        };

        public static string Describe(SlitState s) => s switch
        {
            SlitState.Absent => "no SLIT (distances 10 local, 20 remote)",
            SlitState.Ok => "SLIT",
            SlitState.Broken => "the SLIT is too short or lacks a domain of the SRAT (distances 10/20 used)",
            _ => "the SLIT has a distance that is not one (distances 10/20 used)",
        };

        /// <summary>Linux's boot lines: "SRAT: Node 0 PXM 0 [mem 0x...-0x...]" per range, then the SLIT or why not.</summary>
        public static void PrintReport()
        {
            if (s_info.NodeCount == 0 && s_info.Error == NumaError.NoSrat) return;   // the usual one-node machine: nothing to say
            if (s_info.NodeCount == 0)
            {
                Console.Write("numa: one node: ");
                Console.WriteLine(Describe(s_info.Error));
                return;
            }
            for (int i = 0; i < s_info.RangeCount; i++)
            {
                int nid = s_info.RangeNode(i);
                Console.Write("SRAT: Node "); Console.WriteDecimal((ulong)nid);
                Console.Write(" PXM "); Console.WriteDecimal(s_info.Pxm(nid));
                Console.Write(" [mem "); Console.WriteHex(s_info.RangeBase(i), 10); Console.Write('-');
                Console.WriteHex(s_info.RangeBase(i) + s_info.RangeLength(i) - 1, 10); Console.Write(']');
                if (s_info.RangeHotPluggable(i)) Console.Write(" hotplug");
                Console.WriteLine();
            }
            Console.Write("numa: "); Console.WriteDecimal((ulong)s_info.NodeCount); Console.Write(" nodes, ");
            Console.WriteDecimal((ulong)s_info.Processors); Console.Write(" processor(s); ");
            Console.WriteLine(Describe(s_info.Slit));
        }
    }
}
