import Glibc

/// A file's size in bytes, 0 when it does not exist (a WAL SQLite has not created yet, or removed).
func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}
