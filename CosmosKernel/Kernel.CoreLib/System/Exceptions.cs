// Exception types. `throw` goes to the two-pass dispatcher (Kernel.Core.Runtime.ExceptionDispatch,
// docs/exceptions.md). Each type reports its own name because the kernel carries no reflection
// metadata; each exception records the return addresses of the frames it passed (its stack trace).
namespace System
{
    public unsafe class Exception
    {
        private readonly string _message;
        private readonly Exception _innerException;
        /// <summary>Most frames a stack trace keeps.</summary>
        public const int MaxStackFrames = 24;
        internal struct Trace { public fixed ulong Frames[MaxStackFrames]; }
        internal Trace _trace;
        internal int _traceCount;

        public Exception() { }
        public Exception(string message) { _message = message; }
        public Exception(string message, Exception innerException) { _message = message; _innerException = innerException; }
        public virtual string Message => _message ?? DefaultMessage;
        /// <summary>The message when none was given (a derived type states its own).</summary>
        protected virtual string DefaultMessage => "";
        public Exception InnerException => _innerException;
        /// <summary>The type's full name; a derived exception type overrides it.</summary>
        public virtual string TypeName => "System.Exception";

        /// <summary>Frames recorded while the exception travelled (the throw site first).</summary>
        public int StackFrameCount => _traceCount;
        /// <summary>Code address of frame <paramref name="i"/> (the throw site is 0).</summary>
        public ulong StackFrame(int i) => (uint)i < (uint)_traceCount ? _trace.Frames[i] : 0;

        internal void ResetTrace() { _traceCount = 0; }
        internal void AddFrame(ulong rip)
        {
            if (_traceCount < MaxStackFrames) _trace.Frames[_traceCount++] = rip;
        }

        /// <summary>"Type: message" (the type alone when there is no message).</summary>
        public override string ToString()
        {
            string m = Message;
            return m.Length == 0 ? TypeName : string.Concat(TypeName, ": ", m);
        }
    }

    public class SystemException : Exception
    {
        public SystemException() { }
        public SystemException(string message) : base(message) { }
        public override string TypeName => "System.SystemException";
    }

    public class InvalidOperationException : SystemException
    {
        public InvalidOperationException() { }
        public InvalidOperationException(string message) : base(message) { }
        public override string TypeName => "System.InvalidOperationException";
    }

    public class ArgumentException : SystemException
    {
        public ArgumentException() { }
        public ArgumentException(string message) : base(message) { }
        public override string TypeName => "System.ArgumentException";
    }

    public class ArgumentOutOfRangeException : ArgumentException
    {
        public ArgumentOutOfRangeException() { }
        public ArgumentOutOfRangeException(string message) : base(message) { }
        public override string TypeName => "System.ArgumentOutOfRangeException";
    }

    public class ArgumentNullException : ArgumentException
    {
        public ArgumentNullException() { }
        public ArgumentNullException(string message) : base(message) { }
        public override string TypeName => "System.ArgumentNullException";
    }

    public class NotSupportedException : SystemException
    {
        public NotSupportedException() { }
        public NotSupportedException(string message) : base(message) { }
        public override string TypeName => "System.NotSupportedException";
    }

    public class NotImplementedException : SystemException
    {
        public NotImplementedException() { }
        public NotImplementedException(string message) : base(message) { }
        public override string TypeName => "System.NotImplementedException";
    }

    public class OutOfMemoryException : SystemException
    {
        public OutOfMemoryException() { }
        public OutOfMemoryException(string message) : base(message) { }
        public override string TypeName => "System.OutOfMemoryException";
        protected override string DefaultMessage => "Insufficient memory to continue the execution of the program.";
    }

    public class NullReferenceException : SystemException
    {
        public NullReferenceException() { }
        public NullReferenceException(string message) : base(message) { }
        public override string TypeName => "System.NullReferenceException";
        protected override string DefaultMessage => "Object reference not set to an instance of an object.";
    }

    public class IndexOutOfRangeException : SystemException
    {
        public IndexOutOfRangeException() { }
        public IndexOutOfRangeException(string message) : base(message) { }
        public override string TypeName => "System.IndexOutOfRangeException";
        protected override string DefaultMessage => "Index was outside the bounds of the array.";
    }

    public class InvalidCastException : SystemException
    {
        public InvalidCastException() { }
        public InvalidCastException(string message) : base(message) { }
        public override string TypeName => "System.InvalidCastException";
        protected override string DefaultMessage => "Specified cast is not valid.";
    }

    public class ArrayTypeMismatchException : SystemException
    {
        public ArrayTypeMismatchException() { }
        public ArrayTypeMismatchException(string message) : base(message) { }
        public override string TypeName => "System.ArrayTypeMismatchException";
        protected override string DefaultMessage => "Attempted to access an element as a type incompatible with the array.";
    }

    public class ArithmeticException : SystemException
    {
        public ArithmeticException() { }
        public ArithmeticException(string message) : base(message) { }
        public override string TypeName => "System.ArithmeticException";
    }

    public class OverflowException : ArithmeticException
    {
        public OverflowException() { }
        public OverflowException(string message) : base(message) { }
        public override string TypeName => "System.OverflowException";
        protected override string DefaultMessage => "Arithmetic operation resulted in an overflow.";
    }

    public class DivideByZeroException : ArithmeticException
    {
        public DivideByZeroException() { }
        public DivideByZeroException(string message) : base(message) { }
        public override string TypeName => "System.DivideByZeroException";
        protected override string DefaultMessage => "Attempted to divide by zero.";
    }

    public class PlatformNotSupportedException : NotSupportedException
    {
        public PlatformNotSupportedException() { }
        public PlatformNotSupportedException(string message) : base(message) { }
        public override string TypeName => "System.PlatformNotSupportedException";
    }

    public class FormatException : SystemException
    {
        public FormatException() { }
        public FormatException(string message) : base(message) { }
        public override string TypeName => "System.FormatException";
    }

    public class ObjectDisposedException : InvalidOperationException
    {
        public ObjectDisposedException(string objectName) : base(objectName) { }
        public override string TypeName => "System.ObjectDisposedException";
    }
}

namespace System.Collections.Generic
{
    public class KeyNotFoundException : SystemException
    {
        public KeyNotFoundException() { }
        public KeyNotFoundException(string message) : base(message) { }
        public override string TypeName => "System.Collections.Generic.KeyNotFoundException";
        protected override string DefaultMessage => "The given key was not present in the dictionary.";
    }
}
