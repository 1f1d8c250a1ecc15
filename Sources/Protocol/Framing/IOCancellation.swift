import Glibc
import SystemShims

/// Ends blocked pipe reads and writes of one worker incarnation, whatever its descendants hold open.
///
/// A helper process that leaves the worker's process group keeps the inherited stdout/stderr open, so EOF
/// never comes; reader threads would wait forever and their fds leak. Readers and writers poll their fd
/// together with this eventfd; once ``cancel()`` is called they stop. One fd per incarnation, closed when
/// the last thread using it is gone.
public final class IOCancellation: Sendable {
    public let fd: Int32

    /// No eventfd could be made (EMFILE, ENFILE, ENOMEM).
    public struct CreateError: Error, CustomStringConvertible {
        public let errno: Int32
        public var description: String { "cannot create an eventfd: \(String(cString: strerror(errno)))" }
    }

    public init() throws(CreateError) {
        let fd = shim_eventfd()
        guard fd >= 0 else { throw CreateError(errno: errno) }
        self.fd = fd
    }

    /// Wakes every poller for good.
    public func cancel() { _ = shim_eventfd_signal(fd) }

    deinit { close(fd) }

    /// Waits until `fd` is ready for `events` (POLLIN or POLLOUT) or the cancellation fires; false when
    /// cancelled or the poll itself failed. A hang-up or error on `fd` counts as ready: the read or write
    /// that follows reports it.
    public func wait(fd: Int32, for events: Int16) -> Bool {
        var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if fds[1].revents != 0 { return false }
            if fds[0].revents != 0 { return true }
        }
    }
}
