import Foundation
import History
import Tasks
import UI
import XCTest

/// The history database on real SQLite files in a temporary folder: what is saved comes back whole, updates
/// touch only what changed, search finds turns by their words, JSON files are taken in once, and every kind of
/// broken file gives a message naming it.
final class HistoryDatabaseTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "glimpse-history-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        _ = chmod(folder, 0o755)
        try? FileManager.default.removeItem(atPath: folder)
    }

    func conversation(_ turns: [(String, String)], images: [String] = [], task: TaskMode = .vqa, panes: Int = 1) -> SavedConversation {
        var settings = SessionSettings()
        settings.temperature = 0
        settings.seed = 7
        let pane = SavedConversation.SavedPane(model: "shapes", path: "/models/shapes.gguf", mmproj: nil, task: task,
                                               settings: settings, turns: turns.map { .init(role: $0.0, text: $0.1) })
        return SavedConversation(images: images, panes: Array(repeating: pane, count: panes))
    }

    func testWhatIsSavedComesBackWhole() throws {
        let db = try HistoryDatabase(path: folder + "/history.sqlite")
        let image = folder + "/scene.png"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: image))
        var saved = conversation([("user", "[vqa] how many objects are there?"), ("assistant", "3")], images: [image], panes: 2)
        saved.panes[1].model = "shapes-q8_0"
        saved.panes[1].turns[0].ocr = true
        saved.panes[1].ocr = true
        saved.panes[1].task = .grounding
        try db.save(saved, id: "2026-12-08-101500")
        XCTAssertEqual(try db.load(id: "2026-12-08-101500"), saved)
        XCTAssertEqual(try db.appliedMigrations(), ["v1: conversations, panes, turns, images, search"])
        XCTAssertEqual(try db.integrityCheck(), "ok")
    }

    func testAConversationGrowsShrinksAndIsListedNewestFirst() throws {
        let db = try HistoryDatabase(path: folder + "/history.sqlite")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try db.save(conversation([("user", "first question")]), id: "a", now: t0)
        try db.save(conversation([("user", "what color is the star?"), ("assistant", "blu")]), id: "b", answering: [0],
                    now: t0.addingTimeInterval(10))
        // The answer finished, a second question asked, then the conversation cut back (a pane's turns cleared).
        let grown = conversation([("user", "what color is the star?"), ("assistant", "blue"), ("user", "and the circle?")])
        try db.save(grown, id: "b", now: t0.addingTimeInterval(20))
        XCTAssertEqual(try db.load(id: "b"), grown)
        let list = try db.list()
        XCTAssertEqual(list.map(\.id), ["b", "a"])
        XCTAssertEqual(list[0].firstQuestion, "what color is the star?")
        XCTAssertEqual(list[0].questions, 2)
        XCTAssertEqual(list[0].models, ["shapes"])
        XCTAssertEqual(try db.list(excluding: "b").map(\.id), ["a"])
        let cut = conversation([("user", "what color is the star?")])
        try db.save(cut, id: "b", now: t0.addingTimeInterval(30))
        XCTAssertEqual(try db.load(id: "b"), cut)
        XCTAssertTrue(try db.search("circle").isEmpty, "a turn taken away leaves the search index too")
        try db.delete(id: "b")
        XCTAssertEqual(try db.list().map(\.id), ["a"])
        XCTAssertThrowsError(try db.load(id: "b")) { XCTAssertTrue("\($0)".contains("holds no conversation b"), "\($0)") }
    }

    func testSearchFindsTurnsByTheirWordsBestFirst() throws {
        let db = try HistoryDatabase(path: folder + "/history.sqlite")
        try db.save(conversation([("user", "is there a red circle?"), ("assistant", "yes, a red circle at the top left")]), id: "c1")
        try db.save(conversation([("user", "describe the image"), ("assistant", "a blue star and a green cross")]), id: "c2")
        try db.save(conversation([("user", "Où est le cercle rouge ?"), ("assistant", "à gauche")]), id: "c3")
        let red = try db.search("red circle")
        XCTAssertEqual(Set(red.map(\.conversation)), ["c1"])
        XCTAssertEqual(red.count, 2, "the question and the answer")
        XCTAssertEqual(red.first?.role, "user", "the shorter turn, with the same words, ranks first (bm25)")
        XCTAssertTrue(red[0].snippet.contains("[red] [circle]"), red[0].snippet)
        XCTAssertEqual(try db.search("cro").map(\.conversation), ["c2"], "the last word may be the start of a word")
        XCTAssertEqual(try db.search("ou est").map(\.conversation), ["c3"], "accents are folded")
        XCTAssertEqual(try db.search("blue").first?.turn, 1)
        XCTAssertEqual(try db.search("   "), [])
        // Query syntax typed by accident is searched for as words, never an error.
        for odd in ["\"", "red OR", "NEAR(", "a*b", "-star", "col:red", "(", "^", "\u{0}", "AND AND"] {
            XCTAssertNoThrow(try db.search(odd), odd)
        }
    }

    func testJSONConversationsAreTakenInOnceAndKept() throws {
        let conversations = folder + "/conversations"
        try FileManager.default.createDirectory(atPath: conversations, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        let old = conversation([("user", "from the JSON days"), ("assistant", "kept")])
        try encoder.encode(old).write(to: URL(fileURLWithPath: conversations + "/2026-11-23-134005.json"))
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: conversations + "/2026-11-24-000000.json"))
        let db = try HistoryDatabase(path: folder + "/history.sqlite")
        let first = try db.importJSON(folder: conversations)
        XCTAssertEqual(first.imported, 1)
        XCTAssertEqual(first.problems.count, 1)
        XCTAssertTrue(first.problems[0].contains("2026-11-24-000000.json: not a saved conversation (not valid JSON"), first.problems[0])
        XCTAssertEqual(try db.load(id: "2026-11-23-134005"), old)
        XCTAssertEqual(try db.search("JSON days").map(\.conversation), ["2026-11-23-134005"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: conversations + "/2026-11-23-134005.json"), "the file is kept")
        // Deleted here, it stays deleted; a bad file is reported once; a new file comes in.
        try db.delete(id: "2026-11-23-134005")
        try encoder.encode(old).write(to: URL(fileURLWithPath: conversations + "/2026-11-25-080000.json"))
        let second = try db.importJSON(folder: conversations)
        XCTAssertEqual(second.imported, 1)
        XCTAssertEqual(second.problems, [])
        XCTAssertEqual(try db.list().map(\.id), ["2026-11-25-080000"])
    }

    func testADamagedFileIsNamedAndLeftAsItIs() throws {
        let path = folder + "/history.sqlite"
        let garbage = Data(repeating: 0x5A, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HistoryDatabase(path: path)) { error in
            XCTAssertEqual((error as? HistoryError)?.kind, .damaged, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(path + ": is damaged"), "\(error)")
            XCTAssertTrue("\(error)".contains("move it away"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage, "nothing the user had is overwritten")
    }

    func testAFolderThatCannotBeWrittenIsSaidInWords() throws {
        guard getuid() != 0 else { throw XCTSkip("root writes through read-only permissions") }
        _ = chmod(folder, 0o555)
        XCTAssertThrowsError(try HistoryDatabase(path: folder + "/history.sqlite")) { error in
            XCTAssertTrue("\(error)".hasPrefix(folder + "/history.sqlite: cannot be"), "\(error)")
        }
    }

    func testAReadOnlyDatabaseRefusesWritesWithAMessage() throws {
        let path = folder + "/history.sqlite"
        try HistoryDatabase(path: path).save(conversation([("user", "kept")]), id: "a")
        let db = try HistoryDatabase(path: path, options: .init(readOnly: true))
        XCTAssertEqual(try db.load(id: "a").firstQuestion, "kept", "it still reads")
        XCTAssertThrowsError(try db.save(conversation([("user", "new")]), id: "b")) { error in
            XCTAssertEqual((error as? HistoryError)?.kind, .readOnly, "\(error)")
            XCTAssertEqual("\(error)", path + ": cannot be written (read-only)")
        }
    }

    func testAFullDiskIsSaidAndWhatWasCommittedStays() throws {
        let path = folder + "/history.sqlite"
        let db = try HistoryDatabase(path: path, options: .init(pageLimit: 40))
        try db.save(conversation([("user", "small")]), id: "a")
        let long = String(repeating: "a long answer that will not fit ", count: 20_000)
        XCTAssertThrowsError(try db.save(conversation([("user", "big"), ("assistant", long)]), id: "b")) { error in
            XCTAssertEqual((error as? HistoryError)?.kind, .full, "\(error)")
            XCTAssertEqual("\(error)", path + ": the disk is full")
        }
        XCTAssertEqual(try db.list().map(\.id), ["a"], "the failed save left nothing half-written")
        XCTAssertEqual(try db.integrityCheck(), "ok")
    }

    func testALockedDatabaseIsSaidAfterAShortWait() throws {
        let path = folder + "/history.sqlite"
        let holder = try HistoryDatabase(path: path)
        let waiter = try HistoryDatabase(path: path, options: .init(busyTimeout: 0.2))
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? holder.holdWriteLock { holding.signal(); release.wait() }
        }
        holding.wait()
        XCTAssertThrowsError(try waiter.save(conversation([("user", "q")]), id: "b")) { error in
            XCTAssertEqual((error as? HistoryError)?.kind, .locked, "\(error)")
            XCTAssertTrue("\(error)".contains("is locked by another program"), "\(error)")
        }
        release.signal()
    }

    func testTwoGlimpsesShareOneHistory() throws {
        let path = folder + "/history.sqlite"
        let a = try HistoryDatabase(path: path), b = try HistoryDatabase(path: path)
        let conversations = (0 ..< 40).map { i in self.conversation([("user", "question \(i)"), ("assistant", "answer \(i)")]) }
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            try? (i % 2 == 0 ? a : b).save(conversations[i], id: "c\(i)")
        }
        XCTAssertEqual(try a.list().count, 40)
        XCTAssertEqual(try b.search("answer").count, 40)
        XCTAssertEqual(try a.integrityCheck(), "ok")
    }

    func testSHA256MatchesTheStandardsVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
