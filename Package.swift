// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "integration-daemon",
    products: [
        .executable(name: "integration-daemon", targets: ["Supervisor"]),
        .executable(name: "integration-worker", targets: ["Worker"]),
        .executable(name: "integration-bench", targets: ["Bench"]),
        .library(name: "Protocol", targets: ["Protocol"]),
    ],
    targets: [
        // System calls the Glibc overlay lacks (prctl, eventfd, accept4, addclosefrom), from the system headers.
        .target(name: "SystemShims"),
        // The system's libsqlite3, for the embedded store.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // A SQLite VFS over the default one that writes a commit's WAL frames in one write (the store's writer).
        .target(name: "CWALBuffer", dependencies: ["CSQLite"]),
        // The system's libssl/libcrypto (OpenSSL 3), for TLS to an Egeria access server.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // The system's libpq (PostgreSQL 15 client), for the postgres-monitor connector.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
        // The wire: JSON-RPC 2.0 message types, framing, shared value types.
        .target(name: "Protocol", dependencies: ["SystemShims"]),
        // HTTP/1.1 on sockets: the message parser of every door and client, TLS through OpenSSL, a keep-alive client.
        .target(name: "HTTPWire", dependencies: ["Protocol", "COpenSSL"]),
        // The embedded metadata store and report spool, on SQLite: one writer thread, group commit, retention.
        .target(name: "Store", dependencies: ["Protocol", "CSQLite", "CWALBuffer"]),
        // Where element writes and reports go: the embedded store or an Egeria access server (its dialects, client,
        // forwarder and spool), and the redaction that keeps the access server's secrets out of every record.
        .target(name: "Forwarding", dependencies: ["Protocol", "HTTPWire", "Store", "SystemShims"]),
        // integration-daemon: config, supervision, embedded access server, control socket, CLI.
        .executableTarget(name: "Supervisor", dependencies: ["Protocol", "HTTPWire", "Store", "Forwarding", "SystemShims", "CSQLite", "COpenSSL"]),
        // integration-worker: hosts one integration service's connectors.
        .executableTarget(name: "Worker", dependencies: ["Protocol", "HTTPWire", "SystemShims", "CLibPQ"]),
        // integration-bench: prints restart, shutdown, idle and report-throughput figures.
        .executableTarget(name: "Bench", dependencies: ["Protocol"]),
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol"]),
        .testTarget(
            name: "SupervisorTests",
            dependencies: ["Supervisor", "Worker", "Protocol", "HTTPWire", "Store", "Forwarding"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
