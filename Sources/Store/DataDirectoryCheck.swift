import Glibc

/// Whether a folder the daemon keeps its files in could be changed under it by another user: then a planted
/// link could make the daemon overwrite (`daemon.lock`) or turn into a database (`store.sqlite`) any file it can
/// write. The daemon's own files are opened without following links as well; this check is what makes that enough.
package enum DataDirectoryCheck {
    /// What is wrong with `path` as one of the daemon's folders, or nil. `field` names it in the message.
    /// `mayBeLink` allows the folder itself to be a symbolic link (the operator's `dataDirectory`), whose target is
    /// then checked; folders the daemon makes inside it may not be links.
    package static func problem(_ path: String, field: String, mayBeLink: Bool) -> String? {
        var info = stat()
        guard (mayBeLink ? stat(path, &info) : lstat(path, &info)) == 0 else {
            return "\(field) \(path) cannot be examined: \(String(cString: strerror(errno)))"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return "\(field) \(path) is not a folder\(info.st_mode & S_IFMT == S_IFLNK ? " but a symbolic link" : ""); refusing to follow it"
        }
        let owner = info.st_uid, me = geteuid()
        guard owner == me || owner == 0 else {
            return "\(field) \(path) belongs to uid \(owner), not to this daemon's uid \(me); another user could plant links in it"
        }
        let writableByOthers = info.st_mode & (S_IWGRP | S_IWOTH)
        guard writableByOthers == 0 else {
            let mode = String(info.st_mode & ~S_IFMT, radix: 8)
            return "\(field) \(path) is writable by \(info.st_mode & S_IWOTH != 0 ? "every user" : "its group") (mode \(mode)); another user could plant links in it: chmod go-w \(path) (0700 is best)"
        }
        return nil
    }
}
