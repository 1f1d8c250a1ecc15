/// One JSON-RPC request method: its name (written only here), its parameters and its result.
public protocol RPCMethod {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    static var name: String { get }
}

/// One JSON-RPC notification method: a name and parameters, never answered.
public protocol RPCNotification {
    associatedtype Params: Codable & Sendable
    static var name: String { get }
}

/// The parameters or result of a method that carries none; encodes as `{}`.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}
