import Protocol
import Synchronization

/// postgres-monitor: catalogues PostgreSQL databases as Egeria's JDBC Integration Connector does (one database,
/// `JDBCIntegrationConnectorProvider`), or every database of a server as Egeria's PostgreSQL Server connector
/// and its JDBC "friend" do together (`PostgresServerIntegrationProvider`).
///
/// Each refresh first reads every catalogue it needs, then writes: a database that cannot be read is never
/// taken for an empty one, so nothing is deleted because a read failed (Egeria 5 and 6.0 wiped a level then).
final class PostgresMonitor: IntegrationConnector {
    /// Which databases one connector catalogues.
    enum Scope: Sendable {
        /// The database in the address.
        case database
        /// Every database on the server that the include/exclude database lists allow.
        case server(NameFilter)
    }

    static let providerNames = ["postgres-monitor",
                                "org.odpi.openmetadata.adapters.connectors.integration.jdbc.JDBCIntegrationConnectorProvider"]
    static let serverProviderNames = ["postgres-server-monitor",
                                      "org.odpi.openmetadata.adapters.connectors.postgres.catalog.PostgresServerIntegrationProvider"]

    let scope: Scope
    let address: PostgresAddress
    let userId: String?
    /// The `<server>` of the qualifiedNames: `configurationProperties.serverName`, else `host:port`.
    let serverName: String
    let filters: CatalogueFilters
    let connectTimeoutSeconds: Int
    let statementTimeoutSeconds: Double
    let applicationName: String
    /// The client's own bound on each answer: past the server's statement_timeout, whose clearer message then
    /// comes first, for a server that stopped answering altogether (a stopped backend never times out).
    var answerDeadlineSeconds: Double { statementTimeoutSeconds + 5 }
    /// What the last successful refresh left in open metadata (a few MiB for 22,000 elements), per database
    /// qualifiedName, and how many refreshes have used it since open metadata was last read. Only this connector
    /// writes these elements (its worker's scope), so a refresh compares against this instead of reading them all
    /// again; any failure drops it, and every ``rereadEvery``-th refresh reads open metadata anyway.
    private let remembered = Mutex<[String: (known: KnownCatalogue, uses: Int)]>([:])
    static let rereadEvery = 10

    init(config: IntegrationConnectorConfig, server: Bool) throws {
        let properties = config.connection.configurationProperties ?? [:]
        guard let text = config.connection.endpoint?.address, !text.isEmpty else {
            throw ConnectorError("connection.endpoint.address must name the database: jdbc:postgresql://host:port/database", kind: .configFailed)
        }
        address = try PostgresAddress(text)
        userId = config.connection.userId
        serverName = properties["serverName"]?.stringValue ?? "\(address.host):\(address.port)"
        filters = try CatalogueFilters(properties)
        connectTimeoutSeconds = try Self.seconds(properties, "connectTimeoutSeconds", default: 10, in: 1...600)
        statementTimeoutSeconds = Double(try Self.seconds(properties, "statementTimeoutSeconds", default: 60, in: 1...3600))
        applicationName = String("integration-daemon \(config.connectorName)".prefix(63))
        if server {
            scope = .server(NameFilter(include: try NameFilter.names(properties, "includeDatabaseList", splitCommas: true) ?? [],
                                       exclude: try NameFilter.names(properties, "excludeDatabaseList", splitCommas: true) ?? ["postgres"]))
        } else {
            scope = .database
        }
    }

    func refresh(context: ConnectorContext) throws {
        // Read everything first; write only once every catalogue is in hand.
        var addresses = [address]
        var databases: [String]?
        if case .server(let filter) = scope {
            let listed = try withConnection(to: address, context: context) { connection throws(PostgresConnection.Failure) in
                try PostgresCatalogue.databases(connection, timeoutSeconds: answerDeadlineSeconds)
            }
            databases = listed.filter(filter.allows)
            addresses = (databases ?? []).map { address.with(database: $0) }
        }
        var trees: [(CatalogueTree, Prefetch<KnownCatalogue>?)] = []
        for address in addresses {
            // Open metadata's side is read while the database's is, the two waiting on different servers, unless
            // the last refresh's picture of it can stand in.
            let name = CatalogueTree.databaseQualifiedName(server: serverName, database: address.database)
            let reuse = remembered.withLock { $0[name].map { $0.uses < Self.rereadEvery } ?? false }
            let existing = reuse ? nil : Prefetch { try CatalogueSync.existing(under: name, context: context) }
            trees.append((try tree(of: address, context: context), existing))
        }
        for (tree, prefetch) in trees {
            let name = tree.databaseQualifiedName
            let existing: KnownCatalogue, uses: Int
            if let prefetch {
                (existing, uses) = (try prefetch.value(), 0)
            } else if let memory = remembered.withLock({ $0.removeValue(forKey: name) }) {
                (existing, uses) = (memory.known, memory.uses)
            } else {
                (existing, uses) = (try CatalogueSync.existing(under: name, context: context), 0)
            }
            do {
                let now = try CatalogueSync.apply(tree, known: existing, context: context)
                remembered.withLock { $0[name] = (now, uses + 1) }
            } catch {
                remembered.withLock { $0[name] = nil }
                throw error
            }
        }
        if let databases { try removeDroppedDatabases(keeping: Set(databases.map(CatalogueTree.segment)), context: context) }
    }

    private func tree(of address: PostgresAddress, context: ConnectorContext) throws -> CatalogueTree {
        let started = MonotonicClock.now()
        let catalogue = try withConnection(to: address, context: context) { connection throws(PostgresConnection.Failure) in
            try PostgresCatalogue.read(connection, timeoutSeconds: answerDeadlineSeconds)
        }
        let read = MonotonicClock.now()
        let tree = CatalogueTree(server: serverName, address: address, catalogue: catalogue, filters: filters)
        context.logger.debug("catalogue read", ["database": .text(address.database), "columns": .int(catalogue.columns.count),
                                                "readSeconds": .double(read - started), "treeSeconds": .double(MonotonicClock.now() - read)])
        return tree
    }

    /// A database dropped from the server (or now excluded) goes from open metadata with all it held; Egeria's
    /// server connector never removes one. `databases` are qualifiedName segments (``CatalogueTree/segment(_:)``).
    private func removeDroppedDatabases(keeping databases: Set<String>, context: ConnectorContext) throws {
        let prefix = CatalogueTree.databaseQualifiedName(server: serverName, database: "")
        let all = try context.findElements(qualifiedNamePrefix: prefix)
        let gone = all.filter { $0.typeName == "RelationalDatabase" && !databases.contains(String($0.qualifiedName.dropFirst(prefix.count))) }
        remembered.withLock { memory in gone.forEach { memory[$0.qualifiedName] = nil } }
        for database in gone {
            let doomed = all.filter { CatalogueTree.isCatalogued($0, under: database.qualifiedName) }
                .sorted { (CatalogueTree.levelTypes.firstIndex(of: $0.typeName) ?? 0) > (CatalogueTree.levelTypes.firstIndex(of: $1.typeName) ?? 0) }
            try context.writeAll(doomed.map { .delete(guid: $0.guid) })
        }
    }

    /// Connects for one read and closes after; failures become the connector's status: a refused login is
    /// CONFIG_FAILED, an unreachable or hung server WAITING (retried next refresh), anything else FAILED.
    private func withConnection<T>(to address: PostgresAddress, context: ConnectorContext,
                                   _ body: (PostgresConnection) throws(PostgresConnection.Failure) -> T) throws -> T {
        var parameters = address.keywords
        if let userId { parameters.append(("user", userId)) }
        if let secret = context.secret { parameters.append(("password", secret)) }
        parameters += [("connect_timeout", String(connectTimeoutSeconds)), ("application_name", applicationName),
                       ("options", "-c statement_timeout=\(Int(statementTimeoutSeconds * 1000)) -c default_transaction_read_only=on")]
        do {
            let connection = try PostgresConnection(parameters: parameters)
            return try body(connection)
        } catch {
            let what = "database \(address.database) at \(address.host):\(address.port)"
            switch error.kind {
            case .rejected:
                let hint = context.secret == nil ? " (no password: name one with configurationProperties.passwordEnvironmentVariable or passwordFile)" : ""
                throw ConnectorError("cannot sign in to \(what) as \(userId ?? "the default user"): \(error.message)\(hint)", kind: .configFailed)
            case .unavailable:
                throw ConnectorError("cannot reach \(what): \(error.message)", kind: .waiting)
            case .query:
                throw ConnectorError("cannot read the catalogue of \(what): \(error.message)")
            }
        }
    }

    private static func seconds(_ properties: [String: JSONValue], _ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        let given: Int?
        switch properties[key] {
        case nil, .null?: return value
        case .int(let number)?: given = number
        // Int(exactly:) rather than Int(_:): a hostile 1e300 must be refused, not trap.
        case .double(let number)?: given = Int(exactly: number)
        default: given = nil
        }
        guard let given, range.contains(given) else {
            throw ConnectorError("configurationProperties.\(key): expected whole seconds in \(range.lowerBound)…\(range.upperBound), got \(properties[key]?.compactDescription ?? "")", kind: .configFailed)
        }
        return given
    }
}
