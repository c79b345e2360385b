using System.Text;
using TestRunner.Running;
using TestRunner.Screen;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// What a VM user sees: the VGA text screen as QEMU renders it (a screendump), checked cell by
/// cell against the console text the kernel sent over serial in the same boot.
/// </summary>
public class ScreenTests
{
    const int Columns = 80, Rows = 25;
    const string Prompt = "kernel> ";

    [Fact]
    public async Task The_VGA_screen_a_VM_user_sees_shows_the_shell_text()
    {
        // The second line wraps on the screen (the prompt and 75 characters) and is erased back to
        // `ps` across the wrap: what is left on the screen is the `ps` line.
        string erasedAcrossTheWrap = "ps" + new string('x', 73) + new string('\b', 73);
        var run = await KernelImage.ScriptAsync(["help", erasedAcrossTheWrap], screendump: "screen-help-ps.png");
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        var screen = run.Screen ?? throw new Xunit.Sdk.XunitException("no screendump was taken");
        Assert.True(File.Exists(run.ScreendumpPath), $"screendump file {run.ScreendumpPath}");

        // 80x25 text mode as QEMU draws it: 9x16-pixel character cells, 720x400.
        Assert.Equal((720, 400), (screen.Width, screen.Height));
        int cellWidth = screen.Width / Columns, cellHeight = screen.Height / Rows;

        // Light grey (attribute 0x07) on black: exactly two colours.
        var colours = new Dictionary<int, int>();
        for (int y = 0; y < screen.Height; y++)
            for (int x = 0; x < screen.Width; x++)
                colours[screen[x, y]] = colours.GetValueOrDefault(screen[x, y]) + 1;
        Assert.True(colours.Count == 2, "colours: " + string.Join(", ", colours.Select(c => $"{c.Key:x6} x{c.Value}")));
        int background = colours.MaxBy(c => c.Value).Key, ink = colours.Keys.Single(c => c != background);
        Assert.Equal(0x000000, background);
        Assert.True(Grey(ink) is int level && level >= 0x80, $"text colour {ink:x6} is not light grey");

        // The screen the kernel's console text makes, from the serial transcript alone.
        var expected = new TextScreen();
        expected.Write(string.Join("\n", ConsoleText(run)));
        string[] halt = run.Exchanges[^1].Output.ToArray();
        Assert.True(run.Exchanges[^1].Command == "halt" && halt.Length > 0 && halt[0] == Prompt + "halt",
            "the halt command should be echoed after the prompt: " + string.Join(" | ", halt));
        expected.Write("\n" + Prompt);   // the prompt waiting for input when the screen was dumped

        // Cell by cell: ink exactly where the kernel's text has a non-space character.
        // The cursor's cell (after the prompt) is left out: QEMU blinks it.
        var (cursorRow, cursorColumn) = (expected.Row, expected.Column);
        var glyphs = new Dictionary<char, string>();
        var report = new StringBuilder();
        var unlike = new List<string>();
        for (int row = 0; row < Rows; row++)
        {
            var seen = new StringBuilder();
            for (int col = 0; col < Columns; col++)
            {
                string bitmap = Cell(screen, ink, col * cellWidth, row * cellHeight, cellWidth, cellHeight);
                bool inked = bitmap.Contains('#');
                seen.Append(inked ? '#' : '.');
                if (row == cursorRow && col == cursorColumn)
                {
                    // When the cursor is drawn it is an underline in the cell's bottom scan lines.
                    Assert.True(!bitmap[..(cellWidth * (cellHeight - 4))].Contains('#'), "the cursor cell shows more than an underline:\n" + Show(bitmap, cellWidth));
                    continue;
                }
                char c = expected[row, col];
                if (inked != (c != ' ')) seen[^1] = '!';
                // The same character is drawn the same way everywhere.
                if (c == ' ') continue;
                if (!glyphs.TryGetValue(c, out var earlier)) glyphs[c] = bitmap;
                else if (earlier != bitmap && unlike.Count < 3)
                    unlike.Add($"'{c}' at row {row} column {col}:\n{Show(bitmap, cellWidth)}\nan earlier '{c}':\n{Show(earlier, cellWidth)}");
            }
            if (seen.ToString().Contains('!'))
                report.Append($"row {row,2}: expected |{expected.Line(row)}|\n        screen   |{seen}|\n");
        }
        Assert.True(report.Length == 0, "the screen's ink differs from the kernel's text (! marks the cells):\n" + report);
        Assert.True(unlike.Count == 0, "the same character is drawn differently:\n" + string.Join("\n", unlike));
        // Different characters look different: the screen holds this text, not just text of its shape.
        var twins = glyphs.GroupBy(g => g.Value).Where(g => g.Count() > 1).Select(g => string.Concat(g.Select(x => x.Key))).ToList();
        Assert.True(twins.Count == 0, "characters drawn alike: " + string.Join(", ", twins));
        Assert.True(glyphs.Count >= 40, $"only {glyphs.Count} distinct characters on the screen");
        // What the screen shows at the bottom: the ps table and the prompt.
        Assert.Equal(Prompt.TrimEnd(), expected.Line(cursorRow).TrimEnd());
        Assert.Contains(Enumerable.Range(0, Rows).Select(expected.Line), l => l.StartsWith(Prompt + "ps "));
    }

    /// <summary>
    /// Everything the kernel wrote to its console since it cleared the screen at boot (the line
    /// starting with its version), without protocol frames (the decoder keeps them apart) and
    /// without QEMU's own messages. Commands are in it as the shell echoed them.
    /// </summary>
    static IEnumerable<string> ConsoleText(ScriptResult run)
    {
        var lines = run.BootOutput.Concat(run.Exchanges.Take(run.Exchanges.Count - 1).SelectMany(e => e.Output))
            .Where(l => !l.StartsWith("[qemu] ")).ToList();
        int start = lines.FindLastIndex(l => l.StartsWith(run.KernelVersion + " ("));
        Assert.True(start >= 0, $"no boot banner '{run.KernelVersion} (' in the console text");
        return lines.Skip(start);
    }

    static int? Grey(int rgb) => (rgb >> 16) == (rgb >> 8 & 0xFF) && (rgb >> 8 & 0xFF) == (rgb & 0xFF) ? rgb & 0xFF : null;

    /// <summary>A cell's pixels as '#' (ink) and '.' (anything else), row by row.</summary>
    static string Cell(RgbImage screen, int ink, int x0, int y0, int w, int h)
    {
        var sb = new StringBuilder(w * h);
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x0 + w; x++)
                sb.Append(screen[x, y] == ink ? '#' : '.');
        return sb.ToString();
    }

    static string Show(string bitmap, int width) =>
        string.Join("\n", Enumerable.Range(0, bitmap.Length / width).Select(r => bitmap.Substring(r * width, width)));

    /// <summary>
    /// The 80x25 text screen as the console text fills it: '\n' starts a line, '\r' returns to
    /// column 0, TAB goes to the next multiple of 8, backspace steps back (from column 0 to the end
    /// of the row above) and blanks, anything
    /// else takes a cell ('?' for what the screen cannot show); line 81 wraps and line 26 scrolls.
    /// </summary>
    sealed class TextScreen
    {
        readonly char[,] cells = new char[Rows, Columns];

        public TextScreen()
        {
            for (int r = 0; r < Rows; r++) for (int c = 0; c < Columns; c++) cells[r, c] = ' ';
        }

        public int Row { get; private set; }
        public int Column { get; private set; }
        public char this[int row, int column] => cells[row, column];
        public string Line(int row) => new(Enumerable.Range(0, Columns).Select(c => cells[row, c]).ToArray());

        public void Write(string text)
        {
            foreach (char ch in text) Put(ch);
        }

        void Put(char ch)
        {
            switch (ch)
            {
                case '\n': NewLine(); return;
                case '\r': Column = 0; return;
                case '\b':
                    if (Column > 0) Column--;
                    else if (Row > 0) { Row--; Column = Columns - 1; }
                    else return;
                    cells[Row, Column] = ' ';
                    return;
                case '\t': do Put(' '); while (Column % 8 != 0); return;
            }
            cells[Row, Column] = ch is >= ' ' and <= '~' ? ch : '?';
            if (++Column == Columns) NewLine();
        }

        void NewLine()
        {
            Column = 0;
            if (++Row < Rows) return;
            for (int r = 1; r < Rows; r++) for (int c = 0; c < Columns; c++) cells[r - 1, c] = cells[r, c];
            for (int c = 0; c < Columns; c++) cells[Rows - 1, c] = ' ';
            Row = Rows - 1;
        }
    }
}
