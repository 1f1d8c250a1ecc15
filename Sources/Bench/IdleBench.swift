import Foundation

/// An idle daemon with many workers: what it costs to do nothing but heartbeats.
enum IdleBench {
    static func run(workers: Int, seconds: Int) throws {
        print("\nidle: \(workers) workers, heartbeat every 2 s, \(seconds) s window")
        let daemon = try DaemonUnderTest(services: (0..<workers).map(DaemonUnderTest.chaosService), supervision: "{}")
        defer { daemon.stop() }
        let pids = try daemon.waitUntilAllRunning(timeout: 30)
        sleep(2)  // let start-up settle before measuring an idle window
        let switches0 = ProcStats.contextSwitches(daemon.pid), cpu0 = ProcStats.cpuSeconds(daemon.pid) ?? 0
        let workerCPU0 = pids.map { ProcStats.cpuSeconds($0) ?? 0 }.reduce(0, +)
        sleep(UInt32(seconds))
        let switches = ProcStats.contextSwitches(daemon.pid) - switches0
        let cpu = (ProcStats.cpuSeconds(daemon.pid) ?? 0) - cpu0
        let workerCPU = pids.map { ProcStats.cpuSeconds($0) ?? 0 }.reduce(0, +) - workerCPU0
        let heartbeats = Double(workers * seconds) / 2
        print("  daemon context switches: \(switches) in \(seconds) s = \(Figures.format(Double(switches) / heartbeats)) per heartbeat (\(Int(heartbeats)) heartbeats; each wakes the loop, a writer and a reader thread)")
        print("  daemon CPU: \(Figures.format(cpu * 1000)) ms in \(seconds) s; all workers together: \(Figures.format(workerCPU * 1000)) ms")
        let daemonPss = (ProcStats.pssKiB(daemon.pid) ?? .nan) / 1024
        print("  daemon PSS: \(Figures.format(daemonPss)) MiB   [target ≤ 20 MiB]")
        print(Figures.line("worker PSS", pids.compactMap(ProcStats.pssKiB).map { $0 / 1024 }, unit: "MiB", target: "≤ 12 MiB each"))
    }
}
