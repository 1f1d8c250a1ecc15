import Foundation
import Protocol

/// Egeria 6 integration groups: what a read of a group's registrations changes in its worker, and
/// `refresh-config`, which reads at once.
extension SupervisionLoop {
    func refreshConfig(_ command: RefreshConfigCommand, reply: @escaping Reply<RefreshConfigCommand.Answer>) {
        let groups = services.compactMap(\.config.group)
        guard let follower = groupFollower, !groups.isEmpty else {
            return reply(.failure(OperatorError(.badArgument(parameter: "groupName"),
                                                message: "this daemon runs no integration groups (dynamicIntegrationGroupsConfig); reload re-reads the configuration file")))
        }
        var names: Set<String>?
        if let name = command.groupName {
            guard let group = groups.first(where: { $0.qualifiedName == name || IntegrationGroupConfig.marker(for: $0.qualifiedName) == name }) else {
                let services = services.filter { $0.config.group == nil }.map(\.config.urlMarker)
                let hint = services.contains(name) ? "; \(name) is an integration service of the configuration file, which reload re-reads" : ""
                return reply(.failure(OperatorError(.badArgument(parameter: "groupName"),
                                                    message: "no integration group \"\(name)\"; this daemon runs \(groups.map(\.qualifiedName).joined(separator: ", "))\(hint)")))
            }
            names = [group.qualifiedName]
        }
        let events = events
        follower.readNow(names) { readings in events.post(.groupsRead(readings, reply)) }
    }

    /// Takes one read of a group: connectors whose registration appeared start, changed ones are reconfigured,
    /// vanished ones are removed, in the group's live worker. A failed read changes nothing that runs.
    func apply(_ reading: GroupReader.Reading) -> GroupChange {
        var change = GroupChange(integrationGroupName: reading.qualifiedName)
        guard let service = services.first(where: { $0.config.group?.qualifiedName == reading.qualifiedName && !$0.removing }) else {
            change.error = "no longer in the configuration"
            return change
        }
        change.integrationGroupGUID = service.groupState.guid
        switch reading.result {
        case .failure(let problem):
            if service.groupState.lastError != problem.description {
                service.logger.warning("cannot read integration group \(reading.qualifiedName): \(problem); its connectors run as last read, and the read is retried")
            }
            service.groupState.lastError = problem.description
            service.groupState.lastErrorTime = Date()
            change.error = problem.description
            return change
        case .success(var found):
            // Connector names are unique in the daemon: a registration may not take one that runs elsewhere.
            let elsewhere = Set(services.filter { $0 !== service && !$0.removing }.flatMap(\.config.connectors).map(\.connectorName))
            found.skipped += found.connectors.filter { elsewhere.contains($0.connectorName) }
                .map { "\($0.connectorName): a connector of another integration service or group has this name" }
            found.connectors.removeAll { elsewhere.contains($0.connectorName) }
            if service.groupState.lastError != nil {
                service.logger.notice("integration group \(reading.qualifiedName) read again", ["connectors": .int(found.connectors.count)])
            }
            let previous = service.groupState.lastRead ?? []
            var before = service.config, after = service.config
            before.connectors = previous
            after.connectors = found.connectors
            let read = ConfigDiff.connectorChanges(from: before, to: after)
            // What runs, with the read's differences made: live changes to other connectors stay.
            var live = service.config
            live.connectors.removeAll { connector in read.removed.contains(connector.connectorName) }
            for changed in read.changed {
                if let index = live.connectors.firstIndex(where: { $0.connectorName == changed.connectorName }) { live.connectors[index] = changed }
            }
            live.connectors += read.added.filter { added in !live.connectors.contains { $0.connectorName == added.connectorName } }
            // Only the read's differences can differ between what runs and `live`.
            let changes = ConfigDiff.connectorChanges(from: service.config, to: live)
            if !changes.isEmpty {
                service.logger.notice("integration group \(reading.qualifiedName) changed", [
                    "added": .text(changes.added.map(\.connectorName).joined(separator: ",")),
                    "changed": .text(changes.changed.map(\.connectorName).joined(separator: ",")),
                    "removed": .text(changes.removed.joined(separator: ",")),
                ])
            }
            if found.skipped != service.groupState.skipped {
                for reason in found.skipped { service.logger.warning("integration group \(reading.qualifiedName): registration not run: \(reason)") }
            }
            // Their reports belong under the IntegrationConnector elements the registrations name.
            for connector in found.connectors {
                if let guid = connector.connectorGUID { access.reports.anchor(server: config.localServerName, connectorName: connector.connectorName, to: guid) }
            }
            apply(changes, to: service)
            service.groupState = GroupState(guid: found.guid, lastRead: found.connectors, lastReadTime: Date(), lastError: nil, lastErrorTime: nil,
                                            skipped: found.skipped)
            change.integrationGroupGUID = found.guid
            change.addedConnectors = changes.added.map(\.connectorName)
            change.changedConnectors = changes.changed.map(\.connectorName)
            change.removedConnectors = changes.removed
            let touched = Set(change.addedConnectors + change.changedConnectors)
            change.unchangedConnectors = found.connectors.map(\.connectorName).filter { !touched.contains($0) }
            change.skipped = found.skipped
            return change
        }
    }
}
