#if TSAN_VISIBLE_LOCKS
import Protocol

/// Under `scripts/sanitize thread` only: a `Mutex` ThreadSanitizer can see (see `VisibleMutex`).
typealias Mutex<Value> = VisibleMutex<Value>
#endif
