/// Help texts, one per subcommand.
enum Usage {
    static let overview = """
    usage: integration-daemon <command> [--config PATH] [--json]
           integration-daemon --version

    An integration daemon in the spirit of Egeria's: runs each integration service's connectors in its own
    worker process, restarts crashed or hung workers, and keeps every integration report durably.

    commands:
      run        run the daemon in the foreground (SIGTERM or Ctrl-C stops it cleanly)
      validate   check a configuration file and print every error with its JSON path
      status     ask the running daemon for worker and connector status (Egeria's shape with --json)
      refresh    refresh one connector, or all, now; answers when the refresh has run
      restart    re-create one connector inside its worker, or replace a worker process (--service NAME)
      configure  update a connector's configuration properties and re-create only that connector
      reload     re-read the configuration file and apply only what changed (also: SIGHUP)
      refresh-config  read Egeria 6 integration groups from their metadata access server now
      metrics    print metrics in the Prometheus text format
      reports    list stored integration reports (--connector NAME, --since T, --until T, --limit N, --offset N)
      elements   list the elements in the embedded metadata store (--type T, --qualified-name-prefix P, --limit N)
      lineage    list the OpenLineage events the door stored (--limit N, --offset N)

    common options:
      --config PATH         configuration file (default config/daemon.json)
      --placeholder N=V     fills Egeria's ~{N}~ in the configuration (else the environment variable N does)
      --json                machine-readable output
      --log-format FORMAT   text (default) or json, for run only
      --log-level LEVEL     trace, debug, info (default), notice, warning, error, critical, for run only
      --help                help for a command
      --version             the version

    exit codes: 0 success, 1 failure, 64 bad command line or configuration, 69 daemon not running

    """

    static func text(for subcommand: Subcommand) -> String {
        switch subcommand {
        case .run: """
            usage: integration-daemon run [--config PATH] [--log-format text|json] [--log-level LEVEL]

            Starts one worker per integration service in the configuration and supervises them until SIGTERM or
            SIGINT, then stops every worker (shutdown request, SIGTERM, SIGKILL, each after a grace period) and
            exits 0. Logs go to stderr. Live commands reach it over <dataDirectory>/daemon.sock.

            """
        case .refresh: """
            usage: integration-daemon refresh [CONNECTOR] [--wait SECONDS] [--config PATH] [--json]

            Refreshes CONNECTOR (or every connector of every running worker) now and answers once the refresh has
            run, with each connector's status and its integration report's created/updated/deleted counts.
            Exits 1 if a worker could not refresh (not running, or died during the refresh), or if the refresh is
            still running after --wait SECONDS (default 960, past the default 900 s refreshTimeoutSeconds after
            which a wedged worker is replaced); the refresh itself goes on.

            """
        case .restart: """
            usage: integration-daemon restart CONNECTOR [--config PATH] [--json]
                   integration-daemon restart --service NAME [--config PATH] [--json]

            With CONNECTOR: disconnects that connector and creates it again inside its running worker; the other
            connectors are untouched (Egeria's restart). With --service: replaces the worker process (shutdown
            request, then SIGTERM/SIGKILL if needed) and starts a new one at once; also revives a FAILED service.

            """
        case .configure: """
            usage: integration-daemon configure CONNECTOR --set KEY=VALUE [--set KEY=VALUE ...] [--replace] [--config PATH] [--json]

            Updates the connector's configurationProperties, merged into the current ones (or replacing them all
            with --replace, as Egeria's mergeUpdate=false), and re-creates only that connector. VALUE is JSON when it
            parses as JSON (3, true, {"a":1}), text otherwise. The change lasts until the daemon is restarted or
            reloaded; put it in the configuration file to keep it.

            """
        case .refreshConfig: """
            usage: integration-daemon refresh-config [GROUP] [--config PATH] [--json]

            Reads an integration group (every group when none is named; GROUP is its qualified name or the name it
            runs as) from its metadata access server at once, with its connectors' catalog targets, and applies what
            changed: a new registration starts its connector, a changed one reconfigures it (re-created unless only
            its refresh interval or report setting changed), a removed one stops it. Says what changed; exits 1
            when a group could not be read (what runs stays as it was).

            """
        case .reload: """
            usage: integration-daemon reload [--config PATH] [--json]

            Makes the running daemon re-read the configuration file it was started with (as SIGHUP does). An
            invalid file is refused with its errors and the running configuration stays. Otherwise only the
            difference is applied: new services start, removed ones are shut down gracefully, changed connectors
            are re-created inside their live worker, a changed worker command replaces that worker, and nothing
            unchanged is restarted. dataDirectory cannot change without a daemon restart.

            """
        case .metrics: """
            usage: integration-daemon metrics [--config PATH]

            Prints the running daemon's metrics in the Prometheus text exposition format: worker state and
            restarts by cause, refreshes and their duration histogram per connector, reports accepted, forwarded
            and backlog, protocol violations, heartbeat round trip, worker memory. metrics.textfile in the
            configuration makes the daemon write the same to a file, atomically, for node_exporter.

            """
        case .validate: """
            usage: integration-daemon validate [--config PATH] [--json]

            Reads and checks the configuration without starting anything. Prints every error as
            FILE: JSON.PATH: problem, and exits 64 if there is any; unknown fields are warnings.

            """
        case .status: """
            usage: integration-daemon status [--config PATH] [--json]

            Asks the running daemon (through its control socket) for each integration service's worker
            (pid, state, restart count, last exit) and each connector's Egeria status, last refresh and
            statistics. --json prints Egeria's IntegrationDaemonStatus shape plus a worker object per service.

            """
        case .reports: """
            usage: integration-daemon reports [--config PATH] [--json] [--connector NAME] [--since T] [--until T]
                                              [--limit N] [--offset N]

            Lists the integration reports in the embedded store, oldest first: the newest N with --limit, after
            skipping the newest --offset (for paging back). --since/--until keep reports whose refresh completed
            in that window; T is 2026-11-30T08:00:00Z, 2026-11-30 or an age such as 90s, 15m, 2h, 7d.
            --json prints one report per line with Egeria's IntegrationReportProperties fields plus reportId and
            forwardState. Indexed queries: fast on any store size, and safe while the daemon runs.

            """
        case .elements: """
            usage: integration-daemon elements [--config PATH] [--json] [--type TYPE] [--qualified-name-prefix P] [--limit N]

            Lists the elements in the embedded metadata store, by qualifiedName: only those of TYPE (e.g.
            DataFile) and whose qualifiedName starts with P, when given. --json prints one element per line.
            Indexed queries: fast on any store size, and safe while the daemon runs.

            """
        case .lineage: """
            usage: integration-daemon lineage [--config PATH] [--json] [--limit N] [--offset N]

            Lists the OpenLineage events the platform door stored (POST /api/v1/lineage and Egeria's
            publish-open-lineage-event), oldest first: the newest N with --limit, after skipping the newest --offset.
            --json prints each event as its producer sent it, one per line. Safe while the daemon runs.

            """
        case .help: overview
        }
    }
}
