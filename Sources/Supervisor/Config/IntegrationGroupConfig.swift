import Forwarding

/// One entry of `dynamicIntegrationGroupsConfig`: an Egeria 6 integration group. Which connectors it runs, with
/// which connections and intervals, is metadata at the metadata access server that holds it; the daemon reads it
/// from there and runs the group in a worker of its own.
struct IntegrationGroupConfig: Sendable, Equatable {
    /// `integrationGroupQualifiedName`, e.g. `Egeria:IntegrationGroup:Files`.
    var qualifiedName: String
    /// The metadata access server holding the group, with the credentials its registrations are read with.
    var server: EgeriaServerConfig
    /// How often the registrations are read again (`groupRefreshSeconds`).
    var refreshSeconds: Double

    /// The group's worker as a service name (status, logs, metrics): Egeria's qualified names hold `:` and
    /// capitals, which a service name does not.
    static func marker(for qualifiedName: String) -> String {
        var marker = ""
        for character in qualifiedName.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                marker.append(character)
            } else if !marker.isEmpty && marker.last != "-" {
                marker.append("-")
            }
        }
        while marker.last == "-" { marker.removeLast() }
        return marker.isEmpty ? "integration-group" : marker
    }
}
