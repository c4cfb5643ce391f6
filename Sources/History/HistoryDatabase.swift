import Foundation
import GRDB
import Tasks
import UI

/// The conversations kept in one SQLite database (`$XDG_DATA_HOME/glimpse/history.sqlite`), in WAL mode: each
/// save is one transaction, so a crash or a kill leaves the last committed state whole, and a second Glimpse
/// can read while this one writes. Questions and answers are indexed for full-text search (FTS5).
///
/// Thread-safe (GRDB's pool serialises writes and lets reads run beside them).
public final class HistoryDatabase: @unchecked Sendable {
    public let path: String
    private let pool: DatabasePool
    private let fingerprints = ImageFingerprints()

    // MARK: Opening

    /// Opens (creating it and its folder if need be) and brings the schema up to date. Every failure is a
    /// `HistoryError` that says what is wrong with the file in words; the file itself is never deleted or replaced.
    /// How the file is opened. `pageLimit` caps the file's size in pages (SQLite's `max_page_count`), which is
    /// how a full disk is met in tests.
    public struct Options: Sendable {
        public var readOnly = false
        public var busyTimeout: TimeInterval = 2
        public var pageLimit: Int? = nil
        public init(readOnly: Bool = false, busyTimeout: TimeInterval = 2, pageLimit: Int? = nil) {
            self.readOnly = readOnly
            self.busyTimeout = busyTimeout
            self.pageLimit = pageLimit
        }
    }

    public init(path: String, options: Options = Options()) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        } catch {
            throw HistoryError(path: path, "its folder cannot be made (\((error as NSError).localizedDescription))")
        }
        var configuration = GRDB.Configuration()
        // Another Glimpse writing at the same moment: wait a little rather than fail.
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "glimpse-history"
        configuration.readonly = options.readOnly
        if let pages = options.pageLimit {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if options.readOnly {
                // Reading an older schema is fine; one from a newer Glimpse may not mean what this one thinks.
                let known = try pool.read { db in try Self.migrator.hasBeenSuperseded(db) }
                if known { throw HistoryError(path: path, "was written by a newer Glimpse; update Glimpse to read it") }
            } else {
                try Self.migrator.migrate(pool)
            }
        } catch {
            throw HistoryError(path: path, error)
        }
    }

    /// Schema versions, oldest first. A new version is a new migration appended here; never edit one that shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: conversations, panes, turns, images, search") { db in
            try db.execute(sql: """
                CREATE TABLE conversation (
                    id TEXT PRIMARY KEY,            -- when it began, as the JSON files were named: 2026-11-23-134005
                    version INTEGER NOT NULL,       -- SavedConversation.currentVersion when last written
                    created REAL NOT NULL,          -- seconds since 1970
                    updated REAL NOT NULL
                );
                CREATE INDEX conversation_by_update ON conversation(updated);
                CREATE TABLE image (
                    hash TEXT PRIMARY KEY,          -- SHA-256 of the file's bytes
                    bytes INTEGER NOT NULL
                );
                CREATE TABLE conversation_image (
                    conversation TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,      -- the order they were attached (the order the model sees)
                    path TEXT NOT NULL,             -- absolute, where it was when attached
                    hash TEXT REFERENCES image(hash), -- NULL when the file could not be read at save
                    PRIMARY KEY (conversation, position)
                );
                CREATE TABLE pane (
                    conversation TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    model TEXT, path TEXT, mmproj TEXT,
                    task TEXT NOT NULL,
                    settings TEXT NOT NULL,         -- SessionSettings as JSON
                    ocr INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (conversation, position)
                );
                CREATE TABLE turn (
                    id INTEGER PRIMARY KEY,
                    conversation TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                    pane INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
                    text TEXT NOT NULL,
                    ocr INTEGER NOT NULL DEFAULT 0,
                    complete INTEGER NOT NULL DEFAULT 1, -- 0 while the answer was still streaming at the last save
                    created REAL NOT NULL,
                    UNIQUE (conversation, pane, position)
                );
                CREATE VIRTUAL TABLE turn_search USING fts5(
                    text, content='turn', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
                CREATE TRIGGER turn_search_insert AFTER INSERT ON turn BEGIN
                    INSERT INTO turn_search(rowid, text) VALUES (new.id, new.text);
                END;
                CREATE TRIGGER turn_search_delete AFTER DELETE ON turn BEGIN
                    INSERT INTO turn_search(turn_search, rowid, text) VALUES ('delete', old.id, old.text);
                END;
                CREATE TRIGGER turn_search_update AFTER UPDATE OF text ON turn BEGIN
                    INSERT INTO turn_search(turn_search, rowid, text) VALUES ('delete', old.id, old.text);
                    INSERT INTO turn_search(rowid, text) VALUES (new.id, new.text);
                END;
                -- The JSON files taken in, so each is imported once (and a deleted conversation stays deleted).
                CREATE TABLE imported (
                    file TEXT PRIMARY KEY,
                    conversation TEXT,              -- NULL when the file could not be read
                    problem TEXT,
                    at REAL NOT NULL
                );
                """)
        }
        return migrator
    }

    /// The migrations this file has had applied, oldest first (for `glimpse history --json` and tests).
    public func appliedMigrations() throws -> [String] {
        try run { db in try Self.migrator.appliedMigrations(db) }
    }

    /// `PRAGMA integrity_check`: "ok", or what SQLite found wrong.
    public func integrityCheck() throws -> String {
        try run { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    // MARK: Writing

    /// Writes the conversation in one transaction: the images, the panes, and the turns that changed (a turn
    /// already stored as it is now is left alone). `answering`: the panes whose last answer is still streaming,
    /// stored as incomplete so a later save completes it.
    public func save(_ conversation: SavedConversation, id: String, answering: Set<Int> = [], now: Date = Date()) throws {
        let images = conversation.images.map { ($0, fingerprints.fingerprint(of: $0)) }
        try write { db in
            let time = now.timeIntervalSince1970
            try db.execute(sql: """
                INSERT INTO conversation(id, version, created, updated) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET version = excluded.version, updated = excluded.updated
                """, arguments: [id, conversation.version, time, time])
            try db.execute(sql: "DELETE FROM conversation_image WHERE conversation = ?", arguments: [id])
            for (position, (path, fingerprint)) in images.enumerated() {
                if let fingerprint {
                    try db.execute(sql: "INSERT OR IGNORE INTO image(hash, bytes) VALUES (?, ?)",
                                   arguments: [fingerprint.hash, fingerprint.bytes])
                }
                try db.execute(sql: "INSERT INTO conversation_image(conversation, position, path, hash) VALUES (?, ?, ?, ?)",
                               arguments: [id, position, path, fingerprint?.hash])
            }
            try db.execute(sql: "DELETE FROM pane WHERE conversation = ?", arguments: [id])
            for (k, pane) in conversation.panes.enumerated() {
                try db.execute(sql: """
                    INSERT INTO pane(conversation, position, model, path, mmproj, task, settings, ocr)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, k, pane.model, pane.path, pane.mmproj, pane.task.rawValue,
                                     try Self.json(pane.settings), pane.ocr == true])
                try saveTurns(pane.turns, conversation: id, pane: k, streaming: answering.contains(k), time: time, db)
            }
            try db.execute(sql: "DELETE FROM turn WHERE conversation = ? AND pane >= ?",
                           arguments: [id, conversation.panes.count])
        }
    }

    private func saveTurns(_ turns: [SavedConversation.Turn], conversation id: String, pane k: Int, streaming: Bool,
                           time: Double, _ db: Database) throws {
        var stored: [Int: (role: String, text: String, ocr: Bool, complete: Bool)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT position, role, text, ocr, complete FROM turn WHERE conversation = ? AND pane = ?",
                                    arguments: [id, k]) {
            stored[row["position"]] = (row["role"], row["text"], row["ocr"], row["complete"])
        }
        for (position, turn) in turns.enumerated() {
            let complete = !(streaming && position == turns.count - 1 && turn.role == "assistant")
            let ocr = turn.ocr == true
            if let old = stored[position] {
                if old.role == turn.role && old.text == turn.text && old.ocr == ocr && old.complete == complete { continue }
                try db.execute(sql: """
                    UPDATE turn SET role = ?, text = ?, ocr = ?, complete = ? WHERE conversation = ? AND pane = ? AND position = ?
                    """, arguments: [turn.role, turn.text, ocr, complete, id, k, position])
            } else {
                try db.execute(sql: """
                    INSERT INTO turn(conversation, pane, position, role, text, ocr, complete, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, k, position, turn.role, turn.text, ocr, complete, time])
            }
        }
        try db.execute(sql: "DELETE FROM turn WHERE conversation = ? AND pane = ? AND position >= ?",
                       arguments: [id, k, turns.count])
    }

    public func delete(id: String) throws {
        try write { db in try db.execute(sql: "DELETE FROM conversation WHERE id = ?", arguments: [id]) }
    }

    public func contains(id: String) throws -> Bool {
        try run { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM conversation WHERE id = ?", arguments: [id]) ?? false }
    }

    // MARK: Reading

    public func load(id: String) throws -> SavedConversation {
        try run { db in
            guard let version = try Int.fetchOne(db, sql: "SELECT version FROM conversation WHERE id = ?", arguments: [id]) else {
                throw HistoryError(path: path, "holds no conversation \(id)")
            }
            guard version <= SavedConversation.currentVersion else {
                throw HistoryError(path: path, "conversation \(id) was saved by a newer Glimpse (version \(version)); update Glimpse to resume it")
            }
            let images = try String.fetchAll(db, sql: "SELECT path FROM conversation_image WHERE conversation = ? ORDER BY position",
                                             arguments: [id])
            var turnsByPane: [Int: [SavedConversation.Turn]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT pane, role, text, ocr FROM turn WHERE conversation = ? ORDER BY pane, position",
                                        arguments: [id]) {
                let ocr: Bool = row["ocr"]
                turnsByPane[row["pane"], default: []].append(.init(role: row["role"], text: row["text"], ocr: ocr ? true : nil))
            }
            let panes = try Row.fetchAll(db, sql: "SELECT * FROM pane WHERE conversation = ? ORDER BY position", arguments: [id])
                .map { row -> SavedConversation.SavedPane in
                    let taskName: String = row["task"]
                    guard let task = TaskMode(rawValue: taskName) else {
                        throw HistoryError(path: path, "conversation \(id) has an unknown task '\(taskName)'")
                    }
                    let settings = try JSONDecoder().decode(SessionSettings.self, from: Data((row["settings"] as String).utf8))
                    let ocr: Bool = row["ocr"]
                    return .init(model: row["model"], path: row["path"], mmproj: row["mmproj"], task: task, settings: settings,
                                 turns: turnsByPane[row["position"]] ?? [], ocr: ocr ? true : nil)
                }
            return SavedConversation(version: version, images: images, panes: panes)
        }
    }

    /// The conversations, most recently changed first (as `/conversations` and `glimpse history` list them).
    public func list(excluding current: String? = nil) throws -> [ConversationSummary] {
        try run { db in
            var models: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT conversation, model FROM pane ORDER BY conversation, position") {
                models[row["conversation"], default: []].append(row["model"] ?? "no model")
            }
            return try Row.fetchAll(db, sql: """
                SELECT c.id, c.updated,
                    (SELECT text FROM turn WHERE conversation = c.id AND role = 'user' ORDER BY pane, position LIMIT 1) AS first,
                    (SELECT max(n) FROM (SELECT count(*) AS n FROM turn WHERE conversation = c.id AND role = 'user' GROUP BY pane))
                        AS questions
                FROM conversation c WHERE c.id IS NOT ? ORDER BY c.updated DESC, c.id DESC
                """, arguments: [current]).map { row in
                let id: String = row["id"]
                return ConversationSummary(id: id, updated: Date(timeIntervalSince1970: row["updated"]), models: models[id] ?? [],
                                           firstQuestion: row["first"] ?? "", questions: row["questions"] ?? 0)
            }
        }
    }

    // MARK: Running

    func run<T>(_ work: (Database) throws -> T) throws -> T {
        do { return try pool.read(work) } catch let error as HistoryError { throw error } catch { throw HistoryError(path: path, error) }
    }

    func write<T>(_ work: (Database) throws -> T) throws -> T {
        do { return try pool.write(work) } catch let error as HistoryError { throw error } catch { throw HistoryError(path: path, error) }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

// MARK: - Images

/// Each image's SHA-256 and size, remembered by path, size and modification time: a conversation is saved
/// every few seconds while an answer streams, and its images are read once.
final class ImageFingerprints: @unchecked Sendable {
    struct Fingerprint { var hash: String; var bytes: Int }
    private struct Key: Hashable { var path: String; var size: Int; var modified: Double }
    private var known: [Key: Fingerprint] = [:]
    private let lock = NSLock()

    func fingerprint(of path: String) -> Fingerprint? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue else { return nil }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = Key(path: path, size: size, modified: modified)
        if let found = lock.withLock({ known[key] }) { return found }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let fingerprint = Fingerprint(hash: SHA256.hex(data), bytes: data.count)
        lock.withLock { known[key] = fingerprint }
        return fingerprint
    }
}

extension HistoryDatabase {
    /// Holds the write lock while `body` runs, as another program writing a long transaction would (for tests
    /// of a locked history, and the soak's lock injection).
    public func holdWriteLock(_ body: () -> Void) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO imported(file, conversation, problem, at) VALUES ('.lock', NULL, NULL, 0)")
            body()
            try db.execute(sql: "DELETE FROM imported WHERE file = '.lock'")
        }
    }
}
