import Protocol

/// Egeria's DataFilesMonitor: catalogs every file under `endpoint.address` as a `DataFile` and every folder as
/// a `FileFolder`, and on each refresh creates, updates (size or modification time changed) and deletes
/// elements so open metadata matches the folder tree exactly.
///
/// The qualifiedName is the absolute path, unique on the file system; on a host other than the daemon's it is
/// `<host>::<path>`, so two hosts cataloguing the same path do not collide. A deleted file's element is deleted
/// (Egeria archives by default; the embedded store has no archive state).
final class DataFilesMonitor: IntegrationConnector {
    static let fileType = "DataFile"
    static let folderType = "FileFolder"

    let root: String
    /// `<host>::` for a worker on another host, empty on the daemon's own.
    let namePrefix: String

    init(config: IntegrationConnectorConfig, hostQualifier: String? = nil) throws {
        namePrefix = hostQualifier.map { $0 + "::" } ?? ""
        guard let address = config.connection.endpoint?.address, !address.isEmpty else {
            throw ConnectorError("connection.endpoint.address must name the folder to monitor")
        }
        var root = address
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    func start(context: ConnectorContext) throws {
        try checkRoot()
    }

    func refresh(context: ConnectorContext) throws {
        try checkRoot()
        let found = try FileTreeScanner.scan(root: root)
        let prefix = namePrefix + (root == "/" ? "/" : root + "/")
        let known = try context.findElements(qualifiedNamePrefix: prefix)
            .filter { $0.typeName == Self.fileType || $0.typeName == Self.folderType }
        var byName: [String: MetadataElement] = [:]
        for element in known { byName[element.qualifiedName] = element }

        // Every difference goes in one ordered list, written in batches: a 100,000-file folder costs a few
        // hundred requests, not 100,000 round trips.
        var writes: [ElementWrite] = []
        var seen = Set<String>()
        for entry in found {
            let name = namePrefix + entry.path
            seen.insert(name)
            let typeName = entry.isDirectory ? Self.folderType : Self.fileType
            let properties = Self.properties(of: entry)
            if let existing = byName[name], existing.typeName == typeName {
                if !entry.isDirectory && Self.changed(existing, properties) {
                    writes.append(.update(guid: existing.guid, properties: properties, replaceProperties: false))
                }
            } else {
                if let replaced = byName[name] { writes.append(.delete(guid: replaced.guid)) }
                writes.append(.create(typeName: typeName, qualifiedName: name, properties: properties))
            }
        }
        // Deepest first, so a folder's files go before the folder.
        for element in known.sorted(by: { $0.qualifiedName > $1.qualifiedName }) where !seen.contains(element.qualifiedName) {
            writes.append(.delete(guid: element.guid))
        }
        try context.writeAll(writes)
    }

    private func checkRoot() throws {
        guard let entry = FileTreeScanner.stat(root) else {
            throw ConnectorError("endpoint.address folder \(root) does not exist")
        }
        guard entry.isDirectory else { throw ConnectorError("endpoint.address \(root) is not a folder") }
    }

    static func properties(of entry: FileTreeScanner.Entry) -> [String: JSONValue] {
        let name = String(entry.path.split(separator: "/").last ?? "")
        var properties: [String: JSONValue] = ["name": .string(name), "pathName": .string(entry.path)]
        if !entry.isDirectory {
            let dot = name.lastIndex(of: ".")
            let fileType = dot.map { String(name[name.index(after: $0)...]) } ?? ""
            properties["fileType"] = .string(fileType)
            properties["size"] = .int(entry.size)
            properties["modifiedTime"] = .int(entry.modifiedMillis)
        }
        return properties
    }

    private static func changed(_ element: MetadataElement, _ properties: [String: JSONValue]) -> Bool {
        element.properties["size"] != properties["size"] || element.properties["modifiedTime"] != properties["modifiedTime"]
    }
}
