import Foundation
import Forwarding
import Protocol
import Synchronization

/// Reads one integration group from the metadata access server that holds it, as Egeria's daemon does: the group
/// by name, then every page of its registered connectors from the governance-configuration service.
final class GroupReader: Sendable {
    let group: IntegrationGroupConfig
    let client: EgeriaClient
    /// Each catalog target's endpoint by relationship GUID: as Egeria's connectors do, a target's asset connection
    /// is read when the target is new, not at every read.
    private let endpoints = Mutex<[String: String?]>([:])

    init(group: IntegrationGroupConfig, client: EgeriaClient) {
        self.group = group
        self.client = client
    }

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
        let base = "/servers/\(EgeriaDialects.escape(group.server.omagserverName))/open-metadata/access-services/governance-configuration-service/users/\(EgeriaDialects.escape(group.server.userId))"
        let guid: String
        switch fetch(base + "/integration-groups/by-name/\(EgeriaDialects.escape(group.qualifiedName))").flatMap({ GroupRegistrations.groupGUID(from: $0, name: group.qualifiedName) }) {
        case .success(let found): guid = found
        case .failure(let problem): return .failure(problem)
        }
        var found = Found(guid: guid, connectors: [], skipped: [])
        var names: Set<String> = []
        var start = 0
        while start < GroupRegistrations.maxRegistrations {
            let path = base + "/integration-groups/\(EgeriaDialects.escape(guid))/integration-connectors?startingFrom=\(start)&maximumResults=\(GroupRegistrations.pageSize)"
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
                guard page.count > 0 else { return withTargets(found) }
                start += GroupRegistrations.pageSize
            }
        }
        found.skipped.append("more than \(GroupRegistrations.maxRegistrations) registrations; the rest are not read")
        return withTargets(found)
    }

    /// Each connector's catalog targets, read as Egeria's connectors read theirs: the `CatalogTarget` relationships
    /// from its `IntegrationConnector` element, page after page, and each target asset's connection for its endpoint.
    /// A connector with none works on its own endpoint.
    private func withTargets(_ found: Found) -> Result<Found, GroupProblem> {
        var found = found
        let store = "/servers/\(EgeriaDialects.escape(group.server.omagserverName))/open-metadata/access-services"
        let user = "users/\(EgeriaDialects.escape(group.server.userId))"
        var seen: Set<String> = []
        for (index, connector) in found.connectors.enumerated() {
            guard let guid = connector.connectorGUID else { continue }
            var targets: [CatalogTarget] = []
            var names: Set<String> = []
            var start = 0
            reading: while start < GroupCatalogTargets.maxTargets {
                let path = "\(store)/open-metadata-store/\(user)/related-elements/\(EgeriaDialects.escape(guid))/type/CatalogTarget?startingAtEnd=1"
                let page: (targets: [CatalogTarget], skipped: [String], count: Int)
                switch post(path, body: GroupCatalogTargets.requestBody(startFrom: start)).flatMap({ GroupCatalogTargets.page($0, connector: connector.connectorName) }) {
                case .failure(let problem): return .failure(problem)
                case .success(let read): page = read
                }
                found.skipped += page.skipped
                guard page.count > 0 else { break reading }
                for var target in page.targets where names.insert(target.catalogTargetName).inserted {
                    if let relationship = target.relationshipGUID { seen.insert(relationship) }
                    if let relationship = target.relationshipGUID, let known = endpoints.withLock({ $0[relationship] }) {
                        target.endpointAddress = known
                    } else if let element = target.elementGUID {
                        switch fetch("\(store)/connected-asset/\(user)/assets/\(EgeriaDialects.escape(element))/connection") {
                        case .failure(let problem): return .failure(problem)
                        case .success(let data):
                            target.endpointAddress = GroupCatalogTargets.endpoint(data)
                            if let relationship = target.relationshipGUID { endpoints.withLock { $0[relationship] = .some(target.endpointAddress) } }
                        }
                    }
                    targets.append(target)
                }
                start += GroupCatalogTargets.pageSize
            }
            found.connectors[index].catalogTargets = targets.isEmpty ? nil : targets
        }
        // Only the targets there now are remembered.
        endpoints.withLock { known in known = known.filter { seen.contains($0.key) } }
        return .success(found)
    }

    private func post(_ path: String, body: Data) -> Result<Data, GroupProblem> {
        client.post(platformPath: path, body: body).mapError(problem)
    }

    private func fetch(_ path: String) -> Result<Data, GroupProblem> {
        client.get(platformPath: path).mapError(problem)
    }

    private func problem(_ outcome: EgeriaClient.Outcome) -> GroupProblem {
        switch outcome {
        case .retry(let reason), .reject(let reason): GroupProblem("\(group.server.omagserverPlatformRootURL): \(reason)")
        case .delivered: GroupProblem("no answer")
        }
    }
}
