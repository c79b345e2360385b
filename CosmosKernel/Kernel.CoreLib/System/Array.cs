namespace System
{
    /// <summary>Base of every array. Layout contract: [MethodTable*][int length][pad to 8][elements].</summary>
    public abstract class Array
    {
        internal int _numComponents;
        public int Length => _numComponents;
    }

    // ILC uses Array<T> as the template for the method tables of T[].
    public class Array<T> : Array { }
}
