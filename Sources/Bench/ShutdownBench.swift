import Foundation

/// SIGTERM to a daemon with many workers: until the daemon has exited and no worker is alive.
enum ShutdownBench {
    static func run(workers: Int, rounds: Int = 3) throws {
        print("\nshutdown: SIGTERM to a daemon with \(workers) workers, \(rounds) rounds")
        var daemonGone: [Double] = [], allGone: [Double] = []
        for _ in 0..<rounds {
            let daemon = try DaemonUnderTest(services: (0..<workers).map(DaemonUnderTest.chaosService), supervision: "{}")
            defer { daemon.stop() }
            let pids = try daemon.waitUntilAllRunning(timeout: 30)
            let start = Clock.now()
            kill(daemon.pid, SIGTERM)
            // Poll /proc every 0.5 ms: waitUntilExit would quantise to its 50 ms run-loop poll.
            while ProcStats.isAlive(daemon.pid) && Clock.now() - start < 30 { usleep(500) }
            daemonGone.append((Clock.now() - start) * 1000)
            while pids.contains(where: ProcStats.isAlive) && Clock.now() - start < 10 { usleep(500) }
            allGone.append((Clock.now() - start) * 1000)
            if pids.contains(where: ProcStats.isAlive) { print("  WARNING: workers left after 10 s") }
        }
        print(Figures.line("SIGTERM → daemon exited", daemonGone, unit: "ms"))
        print(Figures.line("SIGTERM → daemon and all \(workers) workers gone", allGone, unit: "ms", target: "≤ 150 ms; s6/runit ~100 ms, supervisord 19 s"))
    }
}
