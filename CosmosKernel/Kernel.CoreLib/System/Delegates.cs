// Delegates as ilc builds them (docs/kernel-csharp-subset.md): a delegate object holds the target
// (_firstParameter) and the code to call (_functionPointer); ilc's constructor sequence calls one
// of the Initialize* methods below by name, and its generated Invoke and thunks read these
// fields by name. Closed instance delegates (lambdas, closures, method groups on an object),
// open static delegates (a static method group) and closed static ones (an extension method
// on a value) are supported; multicast (+=, combining) is not.
namespace System
{
    public abstract unsafe class Delegate
    {
        // Field names are a contract with ilc's delegate thunks.
        internal object _firstParameter;
        internal object _helperObject;
        internal nint _extraFunctionPointerOrData;
        internal IntPtr _functionPointer;

        /// <summary>The object the delegate calls its method on (null for a static method).</summary>
        public object Target => (object)_firstParameter == (object)this ? _helperObject : _firstParameter;

        private void InitializeClosedInstance(object firstParameter, IntPtr functionPointer)
        {
            if (firstParameter == null) throw new ArgumentException("Delegate to an instance method cannot have null 'this'.");
            _functionPointer = functionPointer;
            _firstParameter = firstParameter;
        }

        private void InitializeClosedInstanceSlow(object firstParameter, IntPtr functionPointer) => InitializeClosedInstance(firstParameter, functionPointer);

        private void InitializeClosedInstanceToInterface(object firstParameter, IntPtr dispatchCell)
        {
            if (firstParameter == null) throw new NullReferenceException();
            _functionPointer = (IntPtr)Kernel.Core.Runtime.InterfaceDispatch.Resolve(firstParameter, (nint*)dispatchCell);
            _firstParameter = firstParameter;
        }

        private void InitializeClosedInstanceWithGVMResolution(object firstParameter, RuntimeMethodHandle handle)
            => throw new NotSupportedException("delegates to generic virtual methods");

        private void InitializeOpenStaticThunk(object firstParameter, IntPtr functionPointer, IntPtr functionPointerThunk)
        {
            _firstParameter = this;
            _functionPointer = functionPointerThunk;
            _extraFunctionPointerOrData = functionPointer;
        }

        private void InitializeClosedStaticThunk(object firstParameter, IntPtr functionPointer, IntPtr functionPointerThunk)
        {
            _extraFunctionPointerOrData = functionPointer;
            _helperObject = firstParameter;
            _functionPointer = functionPointerThunk;
            _firstParameter = this;
        }

        private void InitializeReversePInvokeThunk(object firstParameter, IntPtr functionPointer, IntPtr functionPointerThunk)
            => throw new NotSupportedException("reverse P/Invoke delegates");

        public static bool operator ==(Delegate a, Delegate b) => (object)a == (object)b;
        public static bool operator !=(Delegate a, Delegate b) => (object)a != (object)b;
        public override bool Equals(object obj) => (object)this == obj;
        public override int GetHashCode() => base.GetHashCode();
    }

    public abstract class MulticastDelegate : Delegate
    {
        public static bool operator ==(MulticastDelegate a, MulticastDelegate b) => (object)a == (object)b;
        public static bool operator !=(MulticastDelegate a, MulticastDelegate b) => (object)a != (object)b;
        public override bool Equals(object obj) => (object)this == obj;
        public override int GetHashCode() => base.GetHashCode();
    }

    public delegate void Action();
    public delegate void Action<in T>(T obj);
    public delegate void Action<in T1, in T2>(T1 arg1, T2 arg2);
    public delegate void Action<in T1, in T2, in T3>(T1 arg1, T2 arg2, T3 arg3);
    public delegate TResult Func<out TResult>();
    public delegate TResult Func<in T, out TResult>(T arg);
    public delegate TResult Func<in T1, in T2, out TResult>(T1 arg1, T2 arg2);
    public delegate TResult Func<in T1, in T2, in T3, out TResult>(T1 arg1, T2 arg2, T3 arg3);
    public delegate bool Predicate<in T>(T obj);
    public delegate int Comparison<in T>(T x, T y);
}
