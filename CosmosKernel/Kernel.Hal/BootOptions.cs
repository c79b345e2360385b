namespace Kernel.Hal
{
    /// <summary>What the kernel command line said about numa_zonelist_order.</summary>
    public enum ZonelistOrderOption : byte
    {
        /// <summary>Not on the command line: node order, the default.</summary>
        NotGiven = 0,
        /// <summary>numa_zonelist_order=node</summary>
        Node,
        /// <summary>numa_zonelist_order=zone</summary>
        Zone,
        /// <summary>Given with another value: refused, node order (the default) is used.</summary>
        Bad,
    }

    /// <summary>
    /// The kernel command line's parameters (Linux's early_param/__setup, for the few this kernel
    /// has): words separated by spaces, <c>name=value</c>. Parsed from BootInfo's copy right after
    /// BootInfo.Parse, before any heap exists (no allocation); reported in the boot report
    /// (<see cref="PrintReport"/>). Known parameters:
    /// <list type="bullet">
    /// <item><c>numa_zonelist_order=node|zone</c>: the order of the zonelists the page allocator
    /// builds (Linux's historical boot parameter; the sysctl of the same name changes it later).
    /// Another value is refused with a line in the boot report and the default (node) is used.</item>
    /// </list>
    /// Any other word is reported as unknown and ignored.
    /// </summary>
    public static unsafe class BootOptions
    {
        public const string ZonelistOrderName = "numa_zonelist_order";

        private static ZonelistOrderOption s_zonelistOrder;
        private static int s_badStart, s_badLength;      // the refused value, in BootInfo's copy
        private const int MaxUnknown = 8;
        private struct WordStore { public fixed int Start[MaxUnknown]; public fixed int Length[MaxUnknown]; }
        private static WordStore s_unknown;
        private static int s_unknownCount;

        /// <summary>numa_zonelist_order from the command line.</summary>
        public static ZonelistOrderOption ZonelistOrder => s_zonelistOrder;
        /// <summary>Words of the command line the kernel does not know.</summary>
        public static int UnknownCount => s_unknownCount;

        /// <summary>Parses BootInfo's copy of the command line (BootInfo.Parse first). A later word wins over an earlier one of the same name.</summary>
        public static void Parse()
        {
            s_zonelistOrder = ZonelistOrderOption.NotGiven;
            s_unknownCount = 0;
            int n = BootInfo.CommandLineLength;
            int i = 0;
            while (i < n)
            {
                while (i < n && BootInfo.CommandLineByte(i) == (byte)' ') i++;
                if (i == n) break;
                int start = i;
                while (i < n && BootInfo.CommandLineByte(i) != (byte)' ') i++;
                Word(start, i - start);
            }
        }

        private static void Word(int start, int length)
        {
            int nameLength = ZonelistOrderName.Length;
            if (length > nameLength && Matches(start, ZonelistOrderName) && BootInfo.CommandLineByte(start + nameLength) == (byte)'=')
            {
                int v = start + nameLength + 1, vl = length - nameLength - 1;
                if (vl == 4 && Matches(v, "node")) s_zonelistOrder = ZonelistOrderOption.Node;
                else if (vl == 4 && Matches(v, "zone")) s_zonelistOrder = ZonelistOrderOption.Zone;
                else { s_zonelistOrder = ZonelistOrderOption.Bad; s_badStart = v; s_badLength = vl; }
                return;
            }
            if (s_unknownCount < MaxUnknown)
            {
                s_unknown.Start[s_unknownCount] = start;
                s_unknown.Length[s_unknownCount] = length;
            }
            s_unknownCount++;
        }

        private static bool Matches(int at, string text)
        {
            for (int k = 0; k < text.Length; k++)
                if (BootInfo.CommandLineByte(at + k) != (byte)text[k]) return false;
            return true;
        }

        private static void WriteBytes(int start, int length)
        {
            for (int k = 0; k < length; k++) Console.Write((char)BootInfo.CommandLineByte(start + k));
        }

        /// <summary>
        /// The boot report's lines: the command line as given (nothing when it is empty), a refused
        /// numa_zonelist_order value, unknown parameters, a command line cut short.
        /// </summary>
        public static void PrintReport()
        {
            if (BootInfo.CommandLineLength == 0) return;
            Console.Write("Kernel command line: "); WriteBytes(0, BootInfo.CommandLineLength); Console.WriteLine();
            if (BootInfo.CommandLineCut)
            {
                Console.Write("warning: the kernel command line is longer than "); Console.WriteDecimal(BootInfo.MaxCommandLineBytes);
                Console.WriteLine(" bytes: the rest was not read");
            }
            if (s_zonelistOrder == ZonelistOrderOption.Bad)
            {
                Console.Write("numa_zonelist_order: bad value \""); WriteBytes(s_badStart, s_badLength);
                Console.WriteLine("\" refused (node or zone): node order, the default, is used");
            }
            else if (s_zonelistOrder != ZonelistOrderOption.NotGiven)
                Console.WriteLine(s_zonelistOrder == ZonelistOrderOption.Zone ? "numa_zonelist_order: zone order (from the command line)"
                                                                              : "numa_zonelist_order: node order (from the command line)");
            if (s_unknownCount != 0)
            {
                Console.Write("Unknown kernel command line parameters \"");
                for (int u = 0; u < s_unknownCount && u < MaxUnknown; u++)
                {
                    if (u != 0) Console.Write(' ');
                    WriteBytes(s_unknown.Start[u], s_unknown.Length[u]);
                }
                if (s_unknownCount > MaxUnknown) Console.Write(" ...");
                Console.WriteLine("\" ignored");
            }
        }
    }
}
