import Foundation
import Protocol

/// `reload` and SIGHUP: re-read the config file and apply only the difference. An invalid file is refused
/// whole and the running configuration stays. The file is the truth: a connector changed live (`configure`,
/// `set-endpoint`, `set-connection`) goes back to what the file says.
extension SupervisionLoop {
    func reload(reply: @escaping Reply<ReloadCommand.Answer>) {
        let read: DaemonConfig
        do {
            (read, _) = try ConfigLoader.load(path: config.file, workerDirectory: SupervisorCommand.executableDirectory(), placeholders: config.placeholders)
        } catch {
            logger.error("reload refused; the running configuration stays:\n\(error)")
            return reply(.failure(OperatorError(message: "reload refused; the running configuration stays:\n\(error)")))
        }
        let unreadable = ConnectorSecret.problems(in: read)
        guard unreadable.isEmpty else {
            logger.error("reload refused; the running configuration stays: \(unreadable.joined(separator: "; "))")
            return reply(.failure(OperatorError(message: "reload refused; the running configuration stays: \(unreadable.joined(separator: "; "))")))
        }
        // Diffed against what runs, not against the file last read: live changes differ from the file, so a
        // reload re-creates those connectors as the file has them.
        var running = config
        running.integrationServices = config.integrationServices.map { file in
            services.first { $0.config.urlMarker == file.urlMarker && !$0.removing }?.config ?? file
        }
        // A group's connectors come from its metadata access server, not from the file.
        var new = read
        new.integrationServices = read.integrationServices.map { service in
            guard service.group != nil, let live = running.integrationServices.first(where: { $0.urlMarker == service.urlMarker }) else { return service }
            var kept = service
            kept.connectors = live.connectors
            return kept
        }
        let diff = ConfigDiff.between(running, new)
        guard diff.refusals.isEmpty else {
            logger.error("reload refused: \(diff.refusals.joined(separator: "; "))")
            return reply(.failure(OperatorError(message: "reload refused; the running configuration stays: \(diff.refusals.joined(separator: "; "))")))
        }
        let now = MonotonicClock.now()
        config = new
        // Timings and restart limits apply to every live worker without restarting it.
        for service in services {
            let updated = new.integrationServices.first { $0.urlMarker == service.config.urlMarker }
            service.lifecycle.reconfigure(timing: new.supervision.timing, restart: updated?.restart ?? service.config.restart)
        }
        for marker in diff.removed {
            guard let service = services.first(where: { $0.config.urlMarker == marker }) else { continue }
            service.removing = true
            service.logger.notice("removed from the configuration: stopping its worker")
            perform(service.lifecycle.stop(now: now), on: service)
        }
        for added in diff.added {
            let service = makeService(added)
            services.append(service)
            service.logger.notice("added to the configuration: starting its worker")
            perform(service.lifecycle.start(now: now), on: service)
        }
        for replaced in diff.replaced {
            guard let service = services.first(where: { $0.config.urlMarker == replaced.urlMarker }) else { continue }
            service.config = replaced
            service.logger.notice("worker command changed: replacing the worker")
            perform(service.lifecycle.restartRequested(now: now), on: service)
        }
        for settings in diff.settingsChanged {
            services.first { $0.config.urlMarker == settings.urlMarker }?.config = settings
        }
        var reconfigured: [String] = [], addedConnectors: [String] = [], removedConnectors: [String] = []
        for changes in diff.reconfigured {
            guard let service = services.first(where: { $0.config.urlMarker == changes.service.urlMarker }) else { continue }
            apply(changes, to: service)
            reconfigured += changes.changed.map(\.connectorName)
            addedConnectors += changes.added.map(\.connectorName)
            removedConnectors += changes.removed
        }
        let summary = ReloadCommand.Answer(added: diff.added.map(\.urlMarker), removed: diff.removed, restarted: diff.replaced.map(\.urlMarker),
                                    reconfiguredConnectors: reconfigured, addedConnectors: addedConnectors,
                                    removedConnectors: removedConnectors, unchanged: diff.unchanged)
        logger.notice("configuration reloaded", [
            "added": .text(summary.added.joined(separator: ",")), "removed": .text(summary.removed.joined(separator: ",")),
            "restarted": .text(summary.restarted.joined(separator: ",")),
            "reconfigured": .text((reconfigured + addedConnectors + removedConnectors).joined(separator: ",")),
        ])
        reply(.success(summary))
    }

    /// Takes a service's new connectors: its configuration now, and its live worker's connectors re-created,
    /// added or removed. A worker that is not running gets them when it (re)starts.
    func apply(_ changes: ConfigDiff.ConnectorChanges, to service: ServiceRuntime) {
        for changed in changes.changed {
            if let old = service.config.connectors.first(where: { $0.connectorName == changed.connectorName }) {
                retireRemovedTargets(from: old, to: changed, in: service)
            }
        }
        service.config = changes.service
        for name in changes.removed { service.connectorStatus[name] = nil }
        guard service.lifecycle.isReady else { return }
        let log = service.logger
        for connector in changes.added + changes.changed {
            service.logger.notice("reconfiguring connector \(connector.connectorName) in its live worker", ["connector": .text(connector.connectorName)])
            send(ConfigureConnector.self, .init(connector: connector, secret: secret(of: connector, in: service)), call: .connectorChange({ result in
                if case .failure(let error) = result { log.error("reconfiguring \(connector.connectorName) failed: \(error.message)") }
            }), to: service)
        }
        for name in changes.removed {
            send(RemoveConnector.self, .init(connectorName: name), call: .connectorChange({ result in
                if case .failure(let error) = result { log.error("removing \(name) failed: \(error.message)") }
            }), to: service)
        }
    }
}
