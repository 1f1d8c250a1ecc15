import Foundation
import Protocol

/// `integration-bench`: starts real daemons and workers and prints the figures behind the performance targets
/// (medians and ratios; this machine is shared, so single numbers mean little).
@main
struct BenchCommand {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == FloodWorker.subcommand {
            FloodWorker.run(Array(arguments.dropFirst()))
        }
        let which = arguments.first { !$0.hasPrefix("-") } ?? "all"
        let workers = option("--workers", in: arguments) ?? 50
        let restarts = option("--restarts", in: arguments) ?? 30
        let reports = option("--reports", in: arguments) ?? 50_000
        let idleSeconds = option("--idle-seconds", in: arguments) ?? 10
        let files = option("--files", in: arguments) ?? 100_000
        let crashes = option("--crashes", in: arguments) ?? 200
        let connections = option("--connections", in: arguments) ?? 2_000
        let kinds = ["all", "restart", "shutdown", "idle", "reports", "forward", "bigfolder", "leaks", "control", "platform", "lineage", "soak", "postgres", "groups"]
        guard kinds.contains(which), !arguments.contains("--help") else {
            print("""
            usage: integration-bench [\(kinds.joined(separator: "|"))] [--workers N] [--restarts N] [--reports N] [--idle-seconds N]
                                     [--files N] [--crashes N] [--connections N]

            Build with `swift build -c release` and run `swift run -c release integration-bench`.
            restart   kill -9 a worker N times: exit seen → replacement spawned, → replacement ready (handshake done)
            shutdown  SIGTERM to a daemon with N workers: time until the daemon and every worker are gone
            idle      a daemon with N idle workers: wake-ups, CPU, PSS of the daemon and of each worker
            reports   one worker, then 8 at once, pipelining N integration reports: reports acknowledged durably per second
            forward   N reports forwarded to an Egeria stand-in that answers at once: throughput, daemon CPU per report, drain after an outage
            bigfolder the first refresh of an N-file folder (--files, default 100,000): time to the stored report, daemon CPU per element
            leaks     N crashes (--crashes, default 200) of a worker whose helper holds its pipes: daemon fds and threads against baseline
            control   status latency after N abusive control connections (--connections, default 2,000)
            platform  GET /status over the REST door with N workers, one SIGSTOPped; then 1,000 idle connections: latency and memory
            lineage   16 keep-alive clients posting small OpenLineage RunEvents: events stored durably per second, request latency;
                      then 5,000 events/s while the file publisher writes each: its lag behind the door
            soak      N reports (--reports, default 1,000,000) over 100 connectors with retention: RSS growth, disk against
                      the retention bound, restart time and a query on that data, then 8 workers at once (not part of all)
            groups    100 integration groups × 10 registered connectors × 10 catalog targets at a stand-in: daemon CPU and
                      memory of one full read, status latency while reads run (not part of all: 100 workers)
            postgres  a 20 × 100 × 10 PostgreSQL database catalogued by postgres-monitor: first catalogue, unchanged and
                      one-column refreshes, worker peak memory (needs PostgreSQL's server and root; not part of all)
            """)
            exit(which == "help" || arguments.contains("--help") ? 0 : 64)
        }
        print("integration-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, binaries in \(DaemonUnderTest.binaryDirectory)")
        do {
            if which == "all" || which == "restart" { try RestartBench.run(restarts: restarts) }
            if which == "all" || which == "shutdown" { try ShutdownBench.run(workers: workers) }
            if which == "all" || which == "idle" { try IdleBench.run(workers: workers, seconds: idleSeconds) }
            if which == "all" || which == "reports" { try ReportBench.run(reports: reports) }
            if which == "all" || which == "forward" { try ForwardBench.run(reports: min(reports, 20_000)) }
            if which == "all" || which == "bigfolder" { try HostileBench.bigFolder(files: files) }
            if which == "all" || which == "leaks" { try HostileBench.leaks(crashes: crashes) }
            if which == "all" || which == "control" { try HostileBench.controlAbuse(connections: connections) }
            if which == "all" || which == "platform" { try PlatformBench.run(workers: workers) }
            if which == "all" || which == "lineage" {
                try LineageBench.run()
                try LineageBench.fanOut()
            }
            if which == "postgres" { try PostgresBench.run() }
            if which == "groups" { try GroupsBench.run() }
            if which == "soak" { try SoakBench.run(reports: option("--reports", in: arguments) ?? 1_000_000) }
        } catch {
            FileHandle.standardError.write(Data("integration-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func option(_ name: String, in arguments: [String]) -> Int? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return Int(arguments[index + 1])
    }
}
