import Protocol

/// Walks a decoded JSON document, reading typed values at JSON paths and collecting every problem instead of
/// stopping at the first, so an operator sees all of a config's errors at once.
struct ConfigReader {
    private(set) var issues: [ConfigError.Issue] = []
    private(set) var warnings: [ConfigError.Issue] = []
    /// Whether connector providers are checked against the built-in worker's list (it is spawned to ask).
    var checksProviders = true

    mutating func fail(_ path: String, _ message: String) {
        issues.append(.init(path: path, message: message))
    }

    mutating func warn(_ path: String, _ message: String) {
        warnings.append(.init(path: path, message: message))
    }

    /// The object at `path`, or nil (with an issue when present but not an object, or required and absent).
    mutating func object(_ value: JSONValue?, _ path: String, required: Bool = false) -> [String: JSONValue]? {
        guard let value, value != .null else {
            if required { fail(path, "is required") }
            return nil
        }
        guard case .object(let object) = value else {
            fail(path, "expected an object, got \(value.compactDescription)")
            return nil
        }
        return object
    }

    mutating func array(_ value: JSONValue?, _ path: String, required: Bool = false) -> [JSONValue]? {
        guard let value, value != .null else {
            if required { fail(path, "is required") }
            return nil
        }
        guard case .array(let array) = value else {
            fail(path, "expected an array, got \(value.compactDescription)")
            return nil
        }
        return array
    }

    mutating func string(_ value: JSONValue?, _ path: String, required: Bool = false, nonEmpty: Bool = true) -> String? {
        guard let value, value != .null else {
            if required { fail(path, "is required") }
            return nil
        }
        guard case .string(let string) = value else {
            fail(path, "expected a string, got \(value.compactDescription)")
            return nil
        }
        if nonEmpty && string.trimmingCharacters(in: .whitespaces).isEmpty {
            fail(path, "must not be empty")
            return nil
        }
        return string
    }

    mutating func bool(_ value: JSONValue?, _ path: String) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let bool) = value else {
            fail(path, "expected true or false, got \(value.compactDescription)")
            return nil
        }
        return bool
    }

    /// A number within `range`; out-of-range values are reported with the range.
    mutating func number(_ value: JSONValue?, _ path: String, in range: ClosedRange<Double>) -> Double? {
        guard let value, value != .null else { return nil }
        guard let number = value.doubleValue else {
            fail(path, "expected a number, got \(value.compactDescription)")
            return nil
        }
        guard range.contains(number) else {
            fail(path, "must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), got \(Self.format(number))")
            return nil
        }
        return number
    }

    mutating func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let value, value != .null else { return nil }
        guard let number = value.intValue else {
            fail(path, "expected a whole number, got \(value.compactDescription)")
            return nil
        }
        guard range.contains(number) else {
            fail(path, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
            return nil
        }
        return number
    }

    /// One of an enum's raw values; the error lists them all.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ value: JSONValue?, _ path: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let raw = string(value, path) else { return nil }
        guard let choice = E(rawValue: raw) else {
            fail(path, "expected \(E.allCases.map(\.rawValue).joined(separator: "|")), got \"\(raw)\"")
            return nil
        }
        return choice
    }

    // MARK: - Reading through an object that records its keys

    /// `value` as an object that records which of its keys are read (nil, with an issue, as ``object(_:_:required:)``).
    mutating func object(_ value: JSONValue?, at path: String, required: Bool = false) -> ConfigObject? {
        object(value, path, required: required).map { ConfigObject($0, path: path) }
    }

    mutating func object(_ parent: ConfigObject, _ key: String, required: Bool = false) -> ConfigObject? {
        object(parent[key], at: parent.path(key), required: required)
    }

    mutating func array(_ parent: ConfigObject, _ key: String, required: Bool = false) -> [JSONValue]? {
        array(parent[key], parent.path(key), required: required)
    }

    mutating func string(_ parent: ConfigObject, _ key: String, required: Bool = false, nonEmpty: Bool = true) -> String? {
        string(parent[key], parent.path(key), required: required, nonEmpty: nonEmpty)
    }

    mutating func bool(_ parent: ConfigObject, _ key: String) -> Bool? {
        bool(parent[key], parent.path(key))
    }

    mutating func number(_ parent: ConfigObject, _ key: String, in range: ClosedRange<Double>) -> Double? {
        number(parent[key], parent.path(key), in: range)
    }

    mutating func integer(_ parent: ConfigObject, _ key: String, in range: ClosedRange<Int>) -> Int? {
        integer(parent[key], parent.path(key), in: range)
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ parent: ConfigObject, _ key: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        choice(parent[key], parent.path(key), type)
    }

    /// Reports the keys of `object` that nothing read and nothing accepted (see ``checkKeys(_:_:known:)``).
    mutating func finish(_ object: ConfigObject) {
        checkKeys(object.members.filter { !object.tolerated.contains($0.key) }, object.path, known: object.known)
    }

    /// Refuses keys the daemon does not know, except Egeria's document fields it tolerates: a typo in
    /// `dataDirectory` would otherwise move the store without a word. Names the nearest known key.
    private mutating func checkKeys(_ object: [String: JSONValue], _ path: String, known: Set<String>) {
        for key in object.keys.sorted() where !known.contains(key) && !Self.tolerated.contains(key) {
            let hint = Self.nearest(to: key, in: known).map { "; did you mean \"\($0)\"?" } ?? "; known here: \(known.sorted().joined(separator: ", "))"
            fail(Self.join(path, key), "unknown field" + hint)
        }
    }

    /// The known key a typo most likely meant: the same but for case, or within a few edits.
    static func nearest(to key: String, in known: Set<String>) -> String? {
        if let same = known.first(where: { $0.lowercased() == key.lowercased() }) { return same }
        let scored = known.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }.filter { $0.1 <= max(2, $0.0.count / 4) }
        return scored.min { $0.1 == $1.1 ? $0.0 < $1.0 : $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance, for short keys only (a key longer than 256 characters is no typo of ours).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8.prefix(256)), b = Array(b.utf8.prefix(256))
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Egeria configuration-document fields that have no meaning here but must not be flagged.
    static let tolerated: Set<String> = ["class", "headerVersion", "versionId", "integrationServiceOperationalStatus",
                                         "integrationServiceDevelopmentStatus", "localServerId", "localServerType",
                                         "localServerDescription", "organizationName", "localServerURL",
                                         "maxPageSize", "auditTrail", "usesBlockingCalls", "description"]

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// An object of the configuration at its path, which records each key read from it: ``ConfigReader/finish(_:)``
/// then reports what it holds beyond those, so each key is named once, where it is read. A reference, so the
/// reader's helpers record into it without threading it through `inout`.
final class ConfigObject {
    let members: [String: JSONValue]
    let path: String
    private(set) var known: Set<String> = []
    /// Keys that are neither read nor offered as what a typo meant: Egeria's fields this daemon does not use.
    private(set) var tolerated: Set<String> = []

    init(_ members: [String: JSONValue], path: String) {
        self.members = members
        self.path = path
    }

    /// The value at `key`, which is now known.
    subscript(key: String) -> JSONValue? {
        known.insert(key)
        return members[key]
    }

    /// Keys that are not read here but are not unknown either: Egeria's fields that mean nothing to the daemon.
    func accept(_ keys: String...) { known.formUnion(keys) }

    func tolerate(_ keys: [String]) { tolerated.formUnion(keys) }

    func path(_ key: String) -> String { ConfigReader.join(path, key) }
}
