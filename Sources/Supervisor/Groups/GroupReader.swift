import Foundation
import Forwarding
import Protocol

/// Reads one integration group from the metadata access server that holds it, as Egeria's daemon does: the group
/// by name, then every page of its registered connectors from the governance-configuration service.
struct GroupReader: Sendable {
    let group: IntegrationGroupConfig
    let client: EgeriaClient

    /// What one read found.
    struct Reading: Sendable {
        let qualifiedName: String
        let result: Result<Found, GroupProblem>
    }

    struct Found: Sendable, Equatable {
        /// The IntegrationGroup element's GUID.
        var guid: String
        var connectors: [IntegrationConnectorConfig]
        /// Registrations that cannot run, each with why.
        var skipped: [String]
    }

    func read(now: Date = Date()) -> Reading {
        Reading(qualifiedName: group.qualifiedName, result: find(now: now))
    }

    private func find(now: Date) -> Result<Found, GroupProblem> {
        let base = "/servers/\(Self.segment(group.server.omagserverName))/open-metadata/access-services/governance-configuration-service/users/\(Self.segment(group.server.userId))"
        let guid: String
        switch fetch(base + "/integration-groups/by-name/\(Self.segment(group.qualifiedName))").flatMap({ GroupRegistrations.groupGUID(from: $0, name: group.qualifiedName) }) {
        case .success(let found): guid = found
        case .failure(let problem): return .failure(problem)
        }
        var found = Found(guid: guid, connectors: [], skipped: [])
        var names: Set<String> = []
        var start = 0
        while start < GroupRegistrations.maxRegistrations {
            let path = base + "/integration-groups/\(Self.segment(guid))/integration-connectors?startingFrom=\(start)&maximumResults=\(GroupRegistrations.pageSize)"
            switch fetch(path).flatMap({ GroupRegistrations.page($0, startingFrom: start, now: now) }) {
            case .failure(let problem): return .failure(problem)
            case .success(let page):
                for connector in page.connectors {
                    if names.insert(connector.connectorName).inserted {
                        found.connectors.append(connector)
                    } else {
                        found.skipped.append("\(connector.connectorName): registered twice in the group; the first registration runs")
                    }
                }
                found.skipped += page.skipped
                guard page.count > 0 else { return .success(found) }
                start += GroupRegistrations.pageSize
            }
        }
        found.skipped.append("more than \(GroupRegistrations.maxRegistrations) registrations; the rest are not read")
        return .success(found)
    }

    private func fetch(_ path: String) -> Result<Data, GroupProblem> {
        client.get(platformPath: path).mapError { outcome in
            switch outcome {
            case .retry(let reason), .reject(let reason): GroupProblem("\(group.server.omagserverPlatformRootURL): \(reason)")
            case .delivered: GroupProblem("no answer")
            }
        }
    }

    /// One path segment: Egeria's names hold `:` and may hold spaces or `/`.
    private static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
