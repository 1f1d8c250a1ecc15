/// Help texts, one per subcommand.
enum Usage {
    static let overview = """
    usage: integration-daemon <command> [--config PATH] [--json]

    An integration daemon in the spirit of Egeria's: runs each integration service's connectors in its own
    worker process, restarts crashed or hung workers, and keeps every integration report durably.

    commands:
      run        run the daemon in the foreground (SIGTERM or Ctrl-C stops it cleanly)
      validate   check a configuration file and print every error with its JSON path
      status     ask the running daemon for worker and connector status (Egeria's shape with --json)
      reports    list stored integration reports (--connector NAME, --limit N)
      elements   list the elements in the embedded metadata store (--limit N)

    common options:
      --config PATH   configuration file (default config/daemon.json)
      --json          machine-readable output
      --help          help for a command

    exit codes: 0 success, 1 failure, 64 bad command line or configuration, 69 daemon not running

    """

    static func text(for subcommand: String) -> String {
        switch subcommand {
        case "run": """
            usage: integration-daemon run [--config PATH]

            Starts one worker per integration service in the configuration and supervises them until SIGTERM or
            SIGINT, then stops every worker (shutdown request, SIGTERM, SIGKILL, each after a grace period) and
            exits 0. Logs go to stderr. Live commands reach it over <dataDirectory>/daemon.sock.

            """
        case "validate": """
            usage: integration-daemon validate [--config PATH] [--json]

            Reads and checks the configuration without starting anything. Prints every error as
            FILE: JSON.PATH: problem, and exits 64 if there is any; unknown fields are warnings.

            """
        case "status": """
            usage: integration-daemon status [--config PATH] [--json]

            Asks the running daemon (through its control socket) for each integration service's worker
            (pid, state, restart count, last exit) and each connector's Egeria status, last refresh and
            statistics. --json prints Egeria's IntegrationDaemonStatus shape plus a worker object per service.

            """
        case "reports": """
            usage: integration-daemon reports [--config PATH] [--json] [--connector NAME] [--limit N]

            Lists the integration reports in the embedded store, oldest first (the last N with --limit).
            --json prints one report per line with Egeria's IntegrationReportProperties fields plus reportId.
            Works whether or not the daemon is running.

            """
        case "elements": """
            usage: integration-daemon elements [--config PATH] [--json] [--limit N]

            Lists the elements in the embedded metadata store, by qualifiedName. --json prints one element per line.
            Works whether or not the daemon is running.

            """
        default: overview
        }
    }
}
