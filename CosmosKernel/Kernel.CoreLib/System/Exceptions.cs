// Exception types. There is no unwinder: a `throw` is a kernel panic naming the type
// (see Kernel.Core.Runtime.ExceptionHandling). Each type reports its own name because
// the kernel carries no reflection metadata.
namespace System
{
    public class Exception
    {
        private readonly string _message;
        public Exception() { }
        public Exception(string message) { _message = message; }
        public virtual string Message => _message ?? "";
        /// <summary>The type's full name; a derived exception type overrides it.</summary>
        public virtual string TypeName => "System.Exception";
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
    }
}
