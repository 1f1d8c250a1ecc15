/// An Egeria metadata access server, with Egeria's field names.
package struct EgeriaServerConfig: Sendable, Equatable {
    /// Which Egeria REST API to speak: 6 (open-metadata-store elements, ConnectorActivityReport, token API)
    /// or 5 (framework-services open-integration reports).
    package enum APIVersion: String, Sendable, CaseIterable { case v6 = "6", v5 = "5" }

    package var apiVersion = APIVersion.v6
    package var omagserverPlatformRootURL: String
    package var omagserverName: String
    package var userId: String
    /// The framework services' URL marker the open-integration and open-metadata-store paths hang under.
    package var serviceURLMarker = "asset-manager"
    /// true: connectors' element writes go to Egeria's generic element API (mirrored locally for their finds);
    /// false (`"elementWrites": "embedded"`): they stay in the embedded store and only reports are forwarded.
    package var elementWritesToEgeria = true
    /// Read at start from the environment variable or the file, sent as a bearer token; never in the config,
    /// never logged, never passed to workers.
    package var secretEnvironmentVariable: String?
    package var secretFile: String?
    /// Egeria 6: the password for `userId`, exchanged at the platform's token API (`POST /api/token`) for a
    /// bearer token that is renewed before it expires. Read at start; never logged, never passed to workers.
    package var passwordEnvironmentVariable: String?
    package var passwordFile: String?
    /// Egeria's YAML secrets store file and the collection in it that holds the password (and the user).
    package var secretsStoreLocation: String?
    package var secretsStoreCollection: String?
    /// Egeria 6: how long a token is used when it does not say (Egeria's secrets stores renew every 50 minutes).
    package var tokenRenewSeconds = 3000.0
    /// PEM file of the CA(s) to trust for `https://` instead of the system trust store.
    package var caFile: String?
    package var requestTimeoutSeconds = 10.0
    /// Reports in flight at once (different connectors; one connector's reports go strictly in order).
    package var maxInFlight = Self.defaultMaxInFlight
    package static let defaultMaxInFlight = 8
    package var initialRetrySeconds = 0.2
    package var maxRetrySeconds = 30.0
    /// Accepted reports not yet forwarded may take this much room; at the bound workers are not acknowledged.
    package var spoolLimitBytes = 256 << 20

    package init(omagserverPlatformRootURL: String, omagserverName: String, userId: String) {
        self.omagserverPlatformRootURL = omagserverPlatformRootURL
        self.omagserverName = omagserverName
        self.userId = userId
    }
}
