import Foundation

/// What the daemon's fuzz target feeds to this module: an access server's answers and the tokens it issues.
package enum ForwardingFuzzTarget {
    /// An Egeria answer body, as the client classifies it and as Egeria 6's find answers are searched.
    package static func egeria(_ body: Data, status: Int) {
        _ = EgeriaClient.classify(status: status, body: body)
        _ = Egeria6Bodies.guid(in: body, qualifiedName: "fuzz")
    }

    /// A bearer token's claimed lifetime.
    package static func token(_ text: String) {
        _ = EgeriaTokens.lifetime(of: text, default: 60)
    }
}
