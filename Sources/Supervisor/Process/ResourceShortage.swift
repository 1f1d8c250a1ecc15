import Glibc
import Protocol

/// Whether a worker could not be started for lack of the daemon's own resources (fds, processes, threads,
/// memory): the worker did nothing wrong, so the start is retried and never counted as the service failing.
enum ResourceShortage {
    static let codes: Set<Int32> = [EMFILE, ENFILE, EAGAIN, ENOMEM]

    static func isShortage(_ error: any Error) -> Bool {
        switch error {
        case let error as WorkerProcess.SpawnError: codes.contains(error.code)
        case let error as OSThread.StartError: codes.contains(error.errno)
        case let error as IOCancellation.CreateError: codes.contains(error.errno)
        default: false
        }
    }
}
