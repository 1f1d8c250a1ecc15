import Protocol
import Testing
@testable import Forwarding
@testable import Supervisor

/// What counts as a credential in an address or a connection, and how it is masked.
@Suite("Redaction")
struct RedactionTests {
    @Test("a URI's password is masked and its user kept; ports, paths and users alone are not credentials")
    func userInformation() {
        #expect(Redaction.scrub("connect postgresql://erin:hunter22@db:5432/x failed") == "connect postgresql://erin:[REDACTED]@db:5432/x failed")
        #expect(Redaction.scrub("jdbc:postgresql://erin:hunter22@db/x") == "jdbc:postgresql://erin:[REDACTED]@db/x")
        for address in ["postgresql://erin:hunter22@db/x", "https://db/x?sslmode=require&password=hunter22", "host=db password=hunter22",
                        "https://api.example.com/v1?token=abc123", "jdbc:sqlserver://db;user=erin;password=hunter22"] {
            #expect(Redaction.holdsCredential(address: address), "\(address)")
            #expect(!Redaction.scrub(address).contains("hunter22") && !Redaction.scrub(address).contains("abc123"), "\(address)")
        }
        for address in ["postgresql://erin@db:5432/x", "https://db.example.com:8443/a@b", "/var/data/files", "host=db port=5433 user=erin",
                        "https://db.example.com/x?sslmode=require"] {
            #expect(!Redaction.holdsCredential(address: address), "\(address)")
        }
    }

    @Test("a connection as shown: credential-named properties masked, where a secret is read still shown")
    func shownConnection() {
        var connection = Connection(connectorType: ConnectorType(connectorProviderClassName: "chaos"))
        connection.endpoint = Endpoint(address: "postgresql://erin:hunter22@db/x")
        connection.configurationProperties = ["apiToken": .string("t"), "clientSecret": .string("s"), "db_password": .string("p"),
                                              "passwordFile": .string("/etc/x.password"), "passwordEnvironmentVariable": .string("PGPASS"),
                                              "tokenLifetime": .int(3)]
        let shown = Redaction.shown(connection)
        #expect(shown.endpoint?.address == "postgresql://erin:[REDACTED]@db/x")
        let properties = shown.configurationProperties ?? [:]
        for key in ["apiToken", "clientSecret", "db_password"] { #expect(properties[key] == .string(Redaction.mask), "\(key)") }
        #expect(properties["passwordFile"] == .string("/etc/x.password"))
        #expect(properties["passwordEnvironmentVariable"] == .string("PGPASS"))
        #expect(properties["tokenLifetime"] == .int(3))
    }
}
