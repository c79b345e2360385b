// Collections for ordinary kernel code (docs/kernel-csharp-subset.md): List<T>,
// Dictionary<TKey,TValue>, Queue<T>, and Span<T> over arrays, written here (no BCL inside the
// kernel). `foreach` works through their struct enumerators (the pattern csc looks for); they
// do not implement IEnumerable<T>. Keys are compared with Equals and hashed with GetHashCode
// (the primitives and string override both; a value-type key is boxed for Equals). The memory
// manager uses none of this: it allocates.
namespace System.Collections.Generic
{
    public struct KeyValuePair<TKey, TValue>
    {
        public TKey Key { get; }
        public TValue Value { get; }
        public KeyValuePair(TKey key, TValue value) { Key = key; Value = value; }
        public void Deconstruct(out TKey key, out TValue value) { key = Key; value = Value; }
    }

    /// <summary>A growable array.</summary>
    public class List<T> : System.Collections.IEnumerable
    {
        private T[] _items;
        private int _size;
        private int _version;

        public List() { _items = new T[4]; }
        public List(int capacity) { _items = new T[capacity < 1 ? 1 : capacity]; }

        public int Count => _size;
        public int Capacity => _items.Length;

        public T this[int index]
        {
            get { if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException("index"); return _items[index]; }
            set { if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException("index"); _items[index] = value; _version++; }
        }

        private void Grow()
        {
            var bigger = new T[_items.Length * 2];
            for (int i = 0; i < _size; i++) bigger[i] = _items[i];
            _items = bigger;
        }

        public void Add(T item)
        {
            if (_size == _items.Length) Grow();
            _items[_size++] = item;
            _version++;
        }

        public void Insert(int index, T item)
        {
            if ((uint)index > (uint)_size) throw new ArgumentOutOfRangeException("index");
            if (_size == _items.Length) Grow();
            for (int i = _size; i > index; i--) _items[i] = _items[i - 1];
            _items[index] = item;
            _size++;
            _version++;
        }

        public void RemoveAt(int index)
        {
            if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException("index");
            for (int i = index; i < _size - 1; i++) _items[i] = _items[i + 1];
            _size--;
            _items[_size] = default;
            _version++;
        }

        public bool Remove(T item)
        {
            int i = IndexOf(item);
            if (i < 0) return false;
            RemoveAt(i);
            return true;
        }

        public int IndexOf(T item)
        {
            for (int i = 0; i < _size; i++) if (Same(_items[i], item)) return i;
            return -1;
        }

        public bool Contains(T item) => IndexOf(item) >= 0;

        internal static bool Same(T a, T b) => a == null ? b == null : a.Equals(b);

        public void Clear()
        {
            for (int i = 0; i < _size; i++) _items[i] = default;
            _size = 0;
            _version++;
        }

        public T Find(Predicate<T> match)
        {
            for (int i = 0; i < _size; i++) if (match(_items[i])) return _items[i];
            return default;
        }

        public int RemoveAll(Predicate<T> match)
        {
            int kept = 0;
            for (int i = 0; i < _size; i++) if (!match(_items[i])) _items[kept++] = _items[i];
            int removed = _size - kept;
            for (int i = kept; i < _size; i++) _items[i] = default;
            _size = kept;
            _version++;
            return removed;
        }

        public void ForEach(Action<T> action)
        {
            for (int i = 0; i < _size; i++) action(_items[i]);
        }

        /// <summary>Insertion sort by <paramref name="comparison"/> (stable; the lists kernel code keeps are short).</summary>
        public void Sort(Comparison<T> comparison)
        {
            for (int i = 1; i < _size; i++)
            {
                T x = _items[i];
                int j = i - 1;
                while (j >= 0 && comparison(_items[j], x) > 0) { _items[j + 1] = _items[j]; j--; }
                _items[j + 1] = x;
            }
            _version++;
        }

        public T[] ToArray()
        {
            var a = new T[_size];
            for (int i = 0; i < _size; i++) a[i] = _items[i];
            return a;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);

        // For collection initializers (`new List<int> { 1, 2 }`), which csc allows on IEnumerable types.
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => new BoxedEnumerator(this);

        private sealed class BoxedEnumerator : System.Collections.IEnumerator
        {
            private Enumerator _e;
            private readonly List<T> _list;
            public BoxedEnumerator(List<T> list) { _list = list; _e = new Enumerator(list); }
            public bool MoveNext() => _e.MoveNext();
            public object Current => _e.Current;
            public void Reset() => _e = new Enumerator(_list);
        }

        /// <summary>`foreach` over the list; changing the list meanwhile throws InvalidOperationException.</summary>
        public struct Enumerator
        {
            private readonly List<T> _list;
            private readonly int _version;
            private int _index;
            private T _current;

            internal Enumerator(List<T> list) { _list = list; _version = list._version; _index = 0; _current = default; }

            public bool MoveNext()
            {
                if (_version != _list._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                if (_index >= _list._size) return false;
                _current = _list._items[_index++];
                return true;
            }

            public T Current => _current;
        }
    }

    /// <summary>A hash table with separate chaining through index arrays (no per-entry objects).</summary>
    public class Dictionary<TKey, TValue>
    {
        private int[] _buckets;        // 1-based index into _entries, 0 = empty
        private TKey[] _keys;
        private TValue[] _values;
        private int[] _next;           // 1-based, 0 = end of chain
        private int[] _hashes;
        private int _count;            // entries used (including freed ones)
        private int _freeList;         // 1-based chain of freed entries
        private int _freeCount;
        private int _version;

        public Dictionary() : this(4) { }

        public Dictionary(int capacity)
        {
            int size = 4;
            while (size < capacity) size *= 2;
            Allocate(size);
        }

        private void Allocate(int size)
        {
            _buckets = new int[size];
            _keys = new TKey[size];
            _values = new TValue[size];
            _next = new int[size];
            _hashes = new int[size];
        }

        public int Count => _count - _freeCount;

        private static int Hash(TKey key)
        {
            if (key == null) throw new ArgumentNullException("key");
            return key.GetHashCode() & 0x7FFFFFFF;
        }

        private int Find(TKey key)
        {
            int h = Hash(key);
            for (int i = _buckets[h & (_buckets.Length - 1)]; i != 0; i = _next[i - 1])
                if (_hashes[i - 1] == h && _keys[i - 1].Equals(key)) return i - 1;
            return -1;
        }

        public bool ContainsKey(TKey key) => Find(key) >= 0;

        public bool TryGetValue(TKey key, out TValue value)
        {
            int i = Find(key);
            if (i < 0) { value = default; return false; }
            value = _values[i];
            return true;
        }

        public TValue this[TKey key]
        {
            get
            {
                int i = Find(key);
                if (i < 0) throw new KeyNotFoundException(string.Concat("The given key '", key.ToString(), "' was not present in the dictionary."));
                return _values[i];
            }
            set => Insert(key, value, false);
        }

        public void Add(TKey key, TValue value) => Insert(key, value, true);

        public bool TryAdd(TKey key, TValue value)
        {
            if (Find(key) >= 0) return false;
            Insert(key, value, true);
            return true;
        }

        private void Insert(TKey key, TValue value, bool add)
        {
            int existing = Find(key);
            if (existing >= 0)
            {
                if (add) throw new ArgumentException(string.Concat("An item with the same key has already been added. Key: ", key.ToString()));
                _values[existing] = value;
                _version++;
                return;
            }
            int h = Hash(key);
            int slot;
            if (_freeCount > 0)
            {
                slot = _freeList - 1;
                _freeList = _next[slot];
                _freeCount--;
            }
            else
            {
                if (_count == _keys.Length) Resize();
                slot = _count++;
            }
            int b = h & (_buckets.Length - 1);
            _keys[slot] = key;
            _values[slot] = value;
            _hashes[slot] = h;
            _next[slot] = _buckets[b];
            _buckets[b] = slot + 1;
            _version++;
        }

        private void Resize()
        {
            TKey[] keys = _keys;
            TValue[] values = _values;
            int[] hashes = _hashes;
            int n = _count;
            Allocate(keys.Length * 2);
            for (int i = 0; i < n; i++)
            {
                _keys[i] = keys[i];
                _values[i] = values[i];
                _hashes[i] = hashes[i];
                int b = hashes[i] & (_buckets.Length - 1);
                _next[i] = _buckets[b];
                _buckets[b] = i + 1;
            }
        }

        public bool Remove(TKey key)
        {
            int h = Hash(key);
            int b = h & (_buckets.Length - 1);
            int previous = 0;
            for (int i = _buckets[b]; i != 0; previous = i, i = _next[i - 1])
            {
                if (_hashes[i - 1] != h || !_keys[i - 1].Equals(key)) continue;
                if (previous == 0) _buckets[b] = _next[i - 1]; else _next[previous - 1] = _next[i - 1];
                _keys[i - 1] = default;
                _values[i - 1] = default;
                _hashes[i - 1] = -1;      // never matches: hashes are non-negative
                _next[i - 1] = _freeList;
                _freeList = i;
                _freeCount++;
                _version++;
                return true;
            }
            return false;
        }

        public void Clear()
        {
            for (int i = 0; i < _buckets.Length; i++) _buckets[i] = 0;
            for (int i = 0; i < _count; i++) { _keys[i] = default; _values[i] = default; _next[i] = 0; _hashes[i] = 0; }
            _count = 0; _freeList = 0; _freeCount = 0;
            _version++;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);

        /// <summary>`foreach (var (key, value) in dictionary)`, in insertion order while nothing is removed.</summary>
        public struct Enumerator
        {
            private readonly Dictionary<TKey, TValue> _d;
            private readonly int _version;
            private int _index;
            private KeyValuePair<TKey, TValue> _current;

            internal Enumerator(Dictionary<TKey, TValue> d) { _d = d; _version = d._version; _index = 0; _current = default; }

            public bool MoveNext()
            {
                if (_version != _d._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                while (_index < _d._count)
                {
                    int i = _index++;
                    if (_d._hashes[i] < 0) continue;   // a freed entry
                    _current = new KeyValuePair<TKey, TValue>(_d._keys[i], _d._values[i]);
                    return true;
                }
                return false;
            }

            public KeyValuePair<TKey, TValue> Current => _current;
        }
    }

    /// <summary>A first-in first-out ring buffer.</summary>
    public class Queue<T>
    {
        private T[] _items = new T[4];
        private int _head, _size, _version;

        public int Count => _size;

        public void Enqueue(T item)
        {
            if (_size == _items.Length)
            {
                var bigger = new T[_items.Length * 2];
                for (int i = 0; i < _size; i++) bigger[i] = _items[(_head + i) % _items.Length];
                _items = bigger;
                _head = 0;
            }
            _items[(_head + _size) % _items.Length] = item;
            _size++;
            _version++;
        }

        public T Dequeue()
        {
            if (_size == 0) throw new InvalidOperationException("Queue empty.");
            T item = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _size--;
            _version++;
            return item;
        }

        public bool TryDequeue(out T item)
        {
            if (_size == 0) { item = default; return false; }
            item = Dequeue();
            return true;
        }

        public T Peek()
        {
            if (_size == 0) throw new InvalidOperationException("Queue empty.");
            return _items[_head];
        }

        public void Clear()
        {
            for (int i = 0; i < _items.Length; i++) _items[i] = default;
            _head = 0; _size = 0; _version++;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);

        /// <summary>`foreach` from the head (the next to dequeue) to the tail.</summary>
        public struct Enumerator
        {
            private readonly Queue<T> _q;
            private readonly int _version;
            private int _index;
            private T _current;

            internal Enumerator(Queue<T> q) { _q = q; _version = q._version; _index = 0; _current = default; }

            public bool MoveNext()
            {
                if (_version != _q._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                if (_index >= _q._size) return false;
                _current = _q._items[(_q._head + _index++) % _q._items.Length];
                return true;
            }

            public T Current => _current;
        }
    }
}

namespace System
{
    /// <summary>
    /// A window on an array (this kernel's Span: over arrays only, not over stack or raw memory):
    /// indexing (by reference), Slice, Fill, CopyTo, ToArray, `foreach`.
    /// </summary>
    public readonly ref struct Span<T>
    {
        private readonly T[] _array;
        private readonly int _start;
        private readonly int _length;

        public Span(T[] array)
        {
            _array = array;
            _start = 0;
            _length = array == null ? 0 : array.Length;
        }

        public Span(T[] array, int start, int length)
        {
            if (array == null) { if (start != 0 || length != 0) throw new ArgumentOutOfRangeException("start"); _array = null; _start = 0; _length = 0; return; }
            if ((uint)start > (uint)array.Length || (uint)length > (uint)(array.Length - start)) throw new ArgumentOutOfRangeException("start");
            _array = array;
            _start = start;
            _length = length;
        }

        public int Length => _length;
        public bool IsEmpty => _length == 0;

        public ref T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length) throw new IndexOutOfRangeException();
                return ref _array[_start + index];
            }
        }

        public Span<T> Slice(int start) => Slice(start, _length - start);

        public Span<T> Slice(int start, int length)
        {
            if ((uint)start > (uint)_length || (uint)length > (uint)(_length - start)) throw new ArgumentOutOfRangeException("start");
            return new Span<T>(_array, _start + start, length);
        }

        public void Fill(T value)
        {
            for (int i = 0; i < _length; i++) _array[_start + i] = value;
        }

        public void Clear() => Fill(default);

        public void CopyTo(Span<T> destination)
        {
            if (destination._length < _length) throw new ArgumentException("Destination is too short.");
            if (destination._array == _array && destination._start > _start)
                for (int i = _length - 1; i >= 0; i--) destination._array[destination._start + i] = _array[_start + i];
            else
                for (int i = 0; i < _length; i++) destination._array[destination._start + i] = _array[_start + i];
        }

        public T[] ToArray()
        {
            var a = new T[_length];
            for (int i = 0; i < _length; i++) a[i] = _array[_start + i];
            return a;
        }

        public static implicit operator Span<T>(T[] array) => new Span<T>(array);

        public Enumerator GetEnumerator() => new Enumerator(this);

        public ref struct Enumerator
        {
            private readonly Span<T> _span;
            private int _index;

            internal Enumerator(Span<T> span) { _span = span; _index = -1; }

            public bool MoveNext() => ++_index < _span.Length;

            public ref T Current => ref _span[_index];
        }
    }

    public static class SpanExtensions
    {
        public static Span<T> AsSpan<T>(this T[] array) => new Span<T>(array);
        public static Span<T> AsSpan<T>(this T[] array, int start, int length) => new Span<T>(array, start, length);
    }
}
