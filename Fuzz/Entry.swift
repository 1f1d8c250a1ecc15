// libFuzzer's entry for the three fuzz binaries scripts/fuzz builds: it is compiled into the daemon's sources
// (FUZZ_DAEMON), the worker's (FUZZ_WORKER), or alone beside the Protocol library, and runs the target that
// FUZZ_TARGET names.
import Glibc
#if FUZZ_DAEMON
typealias FuzzTargetUnderTest = DaemonFuzzTarget
#elseif FUZZ_WORKER
typealias FuzzTargetUnderTest = WorkerFuzzTarget
#else
@testable import Protocol
typealias FuzzTargetUnderTest = ProtocolFuzzTarget
#endif

private let target: FuzzTargetUnderTest = {
    let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTargetUnderTest(rawValue: name) else {
        let message = "FUZZ_TARGET=\"\(name)\" is not one of: \(FuzzTargetUnderTest.allCases.map(\.rawValue).joined(separator: ", "))\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
