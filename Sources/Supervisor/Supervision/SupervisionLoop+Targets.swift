import Dispatch
import Forwarding
import Protocol
import Store

/// A catalog target removed from a connector that runs on: its elements are handled as the target's `deleteMethod`
/// says, since the connector no longer sees them (Egeria's daemon never notices a removal until a restart).
extension SupervisionLoop {
    func retireRemovedTargets(from old: IntegrationConnectorConfig, to new: IntegrationConnectorConfig, in service: ServiceRuntime) {
        guard let before = old.catalogTargets, !before.isEmpty else { return }
        let kept = Set((new.catalogTargets ?? []).map(\.catalogTargetName))
        let stillUsed = Set(new.metadataSources.compactMap { $0 })
        for target in before where !kept.contains(target.catalogTargetName) {
            let method = target.deleteMethod ?? "ARCHIVE"
            let log = service.logger.with(["connector": .text(old.connectorName), "catalogTarget": .text(target.catalogTargetName)])
            // Only a target with a source of its own can be told apart from what the connector still works on.
            guard let source = target.metadataSourceQualifiedName, source != old.metadataSourceQualifiedName, !stillUsed.contains(source) else {
                log.notice("catalog target removed; its elements stay: they share their metadata source with the connector or another target")
                continue
            }
            guard method != "OTHER" else {
                log.notice("catalog target removed; its elements stay (deleteMethod OTHER)")
                continue
            }
            let elements = access.elements, store = store, connector = old.connectorName
            // Off the loop: a target may have left many elements.
            DispatchQueue.global().async {
                let found = store.findElements(EmbeddedStore.ElementQuery(metadataSourceQualifiedName: source))
                log.notice("catalog target removed: deleting its \(found.count) element(s) (deleteMethod \(method); this store keeps no archived state)")
                for element in found {
                    elements.deleteElement(DeleteElement.Params(connectorName: connector, guid: element.guid), current: element) { result in
                        // A child may have gone with its parent already.
                        if case .failure(let error) = result, error.code != RPCError.notFoundCode {
                            log.warning("deleting \(element.qualifiedName) of a removed catalog target failed: \(error.message)")
                        }
                    }
                }
            }
        }
    }
}
