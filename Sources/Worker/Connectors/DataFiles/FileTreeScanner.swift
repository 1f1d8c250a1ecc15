import Glibc
import Protocol

/// Lists a folder tree with `lstat`, without Foundation's FileManager (workers use FoundationEssentials only).
enum FileTreeScanner {
    /// One file or folder found under the root.
    struct Entry: Equatable {
        var path: String
        var isDirectory: Bool
        var size: Int
        /// Modification time in milliseconds since the epoch.
        var modifiedMillis: Int
    }

    /// Every file and folder below `root` (not `root` itself); symbolic links are not followed.
    static func scan(root: String) throws -> [Entry] {
        var entries: [Entry] = []
        try walk(root, into: &entries)
        return entries
    }

    /// The entry for `path` itself, or nil if nothing is there.
    static func stat(_ path: String) -> Entry? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Entry(path: path, isDirectory: (info.st_mode & S_IFMT) == S_IFDIR, size: Int(info.st_size),
                     modifiedMillis: Int(info.st_mtim.tv_sec) * 1000 + Int(info.st_mtim.tv_nsec) / 1_000_000)
    }

    /// Where `d_name` starts in a `struct dirent`.
    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    private static func walk(_ folder: String, into entries: inout [Entry]) throws {
        guard let dir = opendir(folder) else {
            throw ConnectorError("cannot read folder \(folder): \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let item = readdir(dir) {
            // Read in place, up to its NUL: `item.pointee` would copy a whole `struct dirent`, 256 bytes of name
            // and all, and a record at the end of readdir's buffer is shorter than that (AddressSanitizer caught
            // the read past the buffer).
            let name = String(cString: (UnsafeRawPointer(item) + Self.nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names.sorted() {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            // A file removed between readdir and lstat is simply not there this time.
            guard let entry = stat(path) else { continue }
            entries.append(entry)
            if entry.isDirectory { try walk(path, into: &entries) }
        }
    }
}
