/// Egeria's `IntegrationConnectorStatus`, with its names and ordinals.
public enum IntegrationConnectorStatus: String, Codable, Sendable, CaseIterable {
    case INITIALIZED, WAITING, REFRESHING, RUNNING, STOPPED, INITIALIZE_FAILED, CONFIG_FAILED, SHUTDOWN, FAILED

    public var ordinal: Int {
        switch self {
        case .INITIALIZED: 0
        case .WAITING: 1
        case .REFRESHING: 2
        case .RUNNING: 3
        case .STOPPED: 4
        case .INITIALIZE_FAILED: 5
        case .CONFIG_FAILED: 6
        case .SHUTDOWN: 7
        case .FAILED: 99
        }
    }

    /// Whether the connector is out of action until restarted.
    public var isFailure: Bool { self == .FAILED || self == .CONFIG_FAILED || self == .INITIALIZE_FAILED }
}
