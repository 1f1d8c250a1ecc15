import Forwarding
import Protocol

/// Sets up the reading of the configuration's integration groups at daemon start: a client per group for its
/// metadata access server, with the password read once, and the thread that follows them.
enum GroupStart {
    struct Failure: Error {
        let message: String
        let exitCode: Int32
    }

    /// The follower, already running; nil when the configuration names no group.
    static func start(_ config: DaemonConfig, events: EventQueue, logger: Logger) -> Result<GroupFollower?, Failure> {
        var readers: [GroupReader] = []
        for (index, group) in config.integrationServices.compactMap(\.group).enumerated() {
            let password: String?
            do { password = try AccessSecret.readPassword(group.server, path: "dynamicIntegrationGroupsConfig[\(index)]") } catch {
                return .failure(Failure(message: "\(error)", exitCode: 64))
            }
            password.map(Redaction.register)
            do {
                readers.append(GroupReader(group: group, client: try EgeriaClient(config: group.server, secret: nil, password: password)))
            } catch {
                return .failure(Failure(message: "cannot set up TLS for \(group.server.omagserverPlatformRootURL): \(error)", exitCode: 1))
            }
        }
        guard !readers.isEmpty else { return .success(nil) }
        let follower = GroupFollower(readers: readers) { readings in events.post(.groupsRead(readings, nil)) }
        do { try follower.start() } catch {
            return .failure(Failure(message: "cannot start the thread that reads integration groups: \(error)", exitCode: 1))
        }
        logger.notice("following \(readers.count) integration group(s)", ["groups": .text(readers.map(\.group.qualifiedName).joined(separator: ","))])
        return .success(follower)
    }
}
