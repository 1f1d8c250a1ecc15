import Protocol

/// `integration-worker`: hosts one integration service's connectors, speaking JSON-RPC on stdin/stdout.
///
/// It needs nothing but its three pipes, so it can run anywhere a command can (`ssh host integration-worker`).
@main
struct WorkerMain {
    static func main() {
        if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
            let help = """
            usage: integration-worker [--list-connectors | --version]

            --list-connectors  print the connector provider names this worker knows, one per line, and exit
            --version          print the worker's version (the one it reports in `initialize`) and exit

            Hosts the integration connectors of one integration service. Started by integration-daemon, which
            sends the service's connector configs in the `initialize` request on stdin. stdout carries JSON-RPC 2.0
            messages, one per line (see docs/protocol.md); logs go to stderr. Exits when stdin closes.

            """
            try? LineWriter.writeAll(fd: 1, Data(help.utf8))
            return
        }
        if CommandLine.arguments.contains("--version") {
            try? LineWriter.writeAll(fd: 1, Data("integration-worker \(WorkerRuntime.version)\n".utf8))
            return
        }
        if CommandLine.arguments.contains("--list-connectors") {
            let names = ConnectorRegistry.standard.providerNames.joined(separator: "\n") + "\n"
            try? LineWriter.writeAll(fd: 1, Data(names.utf8))
            return
        }
        WorkerPreamble.run()
        WorkerRuntime().run()
    }
}
