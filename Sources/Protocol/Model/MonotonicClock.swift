#if canImport(Glibc)
import Glibc
#endif

/// Monotonic seconds: immune to wall-clock changes, used for every deadline (the daemon's and the worker's).
public enum MonotonicClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
