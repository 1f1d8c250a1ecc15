#if TSAN_VISIBLE_LOCKS
#if canImport(Glibc)
import Glibc
#endif

/// `Synchronization.Mutex` with a pthread mutex inside, for ThreadSanitizer builds only.
///
/// On Linux, Synchronization's `Mutex` takes a futex that ThreadSanitizer does not see, so it reports every
/// access a `Mutex` guards as a race. `scripts/sanitize thread` builds with `TSAN_VISIBLE_LOCKS`, and each
/// module's `Mutex` is then this type (see `MutexUnderSanitizer.swift` in each): the same calls, over a lock
/// ThreadSanitizer intercepts. Never part of a normal build.
public final class VisibleMutex<Value>: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The value, with a byte beside it: a zero-sized `Value` (`Void`) would otherwise sit at the object's own
    /// address, and ThreadSanitizer would take its exclusive accesses for accesses of the object's header.
    private var guarded: (value: Value, pad: UInt8)

    public init(_ initialValue: sending Value) {
        guarded = (initialValue, 0)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&guarded.value)
    }
}

typealias Mutex<Value> = VisibleMutex<Value>
#endif
