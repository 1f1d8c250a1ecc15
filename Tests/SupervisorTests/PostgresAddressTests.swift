import Testing
@testable import Worker

/// How a postgres-monitor's `endpoint.address` becomes libpq keywords, without a server.
@Suite("PostgreSQL address")
struct PostgresAddressTests {
    func keywords(_ address: String) throws -> [String: String] {
        Dictionary(try PostgresAddress(address).keywords, uniquingKeysWith: { $1 })
    }

    @Test("a libpq URI's parameters override its parts, as libpq reads them")
    func uriParameters() throws {
        #expect(try keywords("postgresql://db.example.com/shop?port=5433") == ["host": "db.example.com", "port": "5433", "dbname": "shop"])
        #expect(try keywords("postgresql:///x?dbname=shop&host=%2Fvar%2Frun%2Fpostgresql&port=6000&sslmode=require")
                == ["host": "/var/run/postgresql", "port": "6000", "dbname": "shop", "sslmode": "require"])
        #expect(try PostgresAddress("postgres://db:5432/shop?port=5433").jdbcURL == "jdbc:postgresql://db:5433/shop")
        #expect(try keywords("jdbc:postgresql://[::1]:5434/shop") == ["host": "::1", "port": "5434", "dbname": "shop"])
    }

    @Test("a bad port is refused with what was given", arguments: ["postgresql://db/shop?port=0", "postgresql://db/shop?port=+5", "postgresql://db:/shop",
                                                                   "postgresql://db/shop?port=65536", "jdbc:postgresql://db:-1/shop"])
    func badPort(_ address: String) {
        #expect { try PostgresAddress(address) } throws: { "\($0)".contains("expected 1 to 65535") }
    }
}
