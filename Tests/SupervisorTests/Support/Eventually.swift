import Foundation
import Glibc

/// The one bounded wait for a state the tests cannot be told about: `condition` is polled every `interval` until
/// it holds or `timeout` seconds pass. True if it held; never a fixed sleep, never unbounded.
@discardableResult
func eventually(timeout: Double, interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(useconds_t(interval * 1_000_000))
    }
    return try condition()
}

/// The first non-nil value `produce` gives within `timeout` seconds, polled every `interval`; nil if none came.
func firstValue<T>(within timeout: Double, interval: Double = 0.02, _ produce: () throws -> T?) rethrows -> T? {
    var value: T?
    try eventually(timeout: timeout, interval: interval) {
        value = try produce()
        return value != nil
    }
    return value
}
