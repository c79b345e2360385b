namespace TestRunner.Protocol;

/// <summary>What the serial stream carried: a line of console text, a frame, or a refused frame.</summary>
public abstract record SerialEvent;

/// <summary>One line of ordinary console text (no newline).</summary>
public sealed record ConsoleLine(string Text) : SerialEvent;

/// <summary>A well-formed protocol frame.</summary>
public sealed record FrameReceived(Frame Frame) : SerialEvent;

/// <summary>A line that started like a frame but broke the contract.</summary>
public sealed record CorruptFrame(string Message, string Line) : SerialEvent;
