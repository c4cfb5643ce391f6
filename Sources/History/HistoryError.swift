import Foundation
import GRDB

/// What went wrong with the history database, in words a user can act on, naming the file.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case damaged, readOnly, full, locked, other }
    public let kind: Kind
    public let description: String

    init(path: String, _ problem: String, kind: Kind = .other) {
        self.kind = kind
        description = "\(path): \(problem)"
    }

    init(path: String, _ error: Error) {
        guard let e = error as? DatabaseError else {
            self.init(path: path, "\(error)")
            return
        }
        switch e.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            self.init(path: path, "is damaged (\(e.message ?? "not a database")); it is left as it is: move it away to start a new history",
                      kind: .damaged)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            self.init(path: path, "cannot be written (read-only)", kind: .readOnly)
        case .SQLITE_CANTOPEN:
            self.init(path: path, "cannot be opened (\(String(cString: strerror(errno))))", kind: .readOnly)
        case .SQLITE_FULL:
            self.init(path: path, "the disk is full", kind: .full)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self.init(path: path, "is locked by another program (another Glimpse writing to it?)", kind: .locked)
        case .SQLITE_IOERR:
            self.init(path: path, "cannot be read or written (I/O error: \(e.message ?? "unknown"))")
        default:
            self.init(path: path, e.message ?? "\(e)")
        }
    }
}
