import UI
import XCTest

/// Glimpse's TOML parser on the TOML 1.0 constructs config.toml and themes use (values as Python's tomllib
/// reads the same text), and every malformed input a message with its line instead of a crash.
final class TOMLTests: XCTestCase {
    func testTheLanguage() throws {
        let t = try TOMLTable(parsing: #"""
            # a comment
            title = "Glimpse" # after a value
            "quoted key" = 'literal \n'
            escapes = "tab\there \u00e9 \U0001F600 \"q\" \\"
            multi = """
            first
            second \
               joined"""
            raw = '''
            C:\path'''
            ints = [1_000, +7, -3, 0x1F, 0o17, 0b101]
            floats = [3.5, -0.25, 1e3, 6.02E+23, inf, -inf]
            yes = true
            no = false
            nested = [[1, 2], ["a"], []]
            inline = { fg = "#ffffff", bold = true, deep = { x = 1 } }
            site.name = "dotted"
            site."sub key".n = 2

            [models.llava]
            path = "/m/llava.gguf"

            [models."with space"]
            path = "/m/x.gguf"

            [[boxes]]
            fg = 1
            [[boxes]]
            fg = 2
            [boxes.extra]
            k = "in the last box"
            """#)
        XCTAssertEqual(t.keys.prefix(4), ["title", "quoted key", "escapes", "multi"])
        XCTAssertEqual(t["title"]?.string, "Glimpse")
        XCTAssertEqual(t["quoted key"]?.string, #"literal \n"#)
        XCTAssertEqual(t["escapes"]?.string, "tab\there é 😀 \"q\" \\")
        XCTAssertEqual(t["multi"]?.string, "first\nsecond joined")
        XCTAssertEqual(t["raw"]?.string, #"C:\path"#)
        XCTAssertEqual(t["ints"]?.array?.compactMap(\.int), [1000, 7, -3, 31, 15, 5])
        XCTAssertEqual(t["floats"]?.array?.compactMap(\.double), [3.5, -0.25, 1000, 6.02e23, .infinity, -.infinity])
        XCTAssertEqual(t["yes"]?.bool, true)
        XCTAssertEqual(t["no"]?.bool, false)
        XCTAssertEqual(t["nested"]?.array?.count, 3)
        XCTAssertEqual(t["inline"]?.table?["deep"]?.table?["x"]?.int, 1)
        XCTAssertEqual(t["inline"]?.table?.keys, ["fg", "bold", "deep"])
        XCTAssertEqual(t["site"]?.table?["name"]?.string, "dotted")
        XCTAssertEqual(t["site"]?.table?["sub key"]?.table?["n"]?.int, 2)
        XCTAssertEqual(t["models"]?.table?.keys, ["llava", "with space"])
        XCTAssertEqual(t["models"]?.table?["llava"]?.table?["path"]?.string, "/m/llava.gguf")
        let boxes = try XCTUnwrap(t["boxes"]?.array)
        XCTAssertEqual(boxes.compactMap { $0.table?["fg"]?.int }, [1, 2])
        XCTAssertEqual(boxes[1].table?["extra"]?.table?["k"]?.string, "in the last box")
    }

    func testMistakesAreMessagesWithTheirLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nb = \n", 2, "a value is missing"),
            ("a = 1\na = 2\n", 2, "the key 'a' is defined twice"),
            ("[t]\n[t]\n", 2, "the table 't' is defined twice"),
            ("x = \"open\n", 1, "a string must end on its line"),
            ("x = \"\"\"never closed", 1, "a string is not closed"),
            ("[{models]]\n", 1, "a key cannot start with '{'"),
            ("theme = \"light\"\n[\n", 2, "a key cannot start with"),
            ("a = [1, 2\n", 2, "expected ',' or ']'"),
            ("a = { b = 1\n", 1, "expected ',' or '}'"),
            ("a = hello\n", 1, "'hello' is not a value (a string needs quotes)"),
            ("a = 1 2\n", 1, "expected the end of the line"),
            ("a = 012\n", 1, "leading zeros"),
            ("a = 99999999999999999999\n", 1, "too large"),
            ("a = \"\\q\"\n", 1, "unknown escape"),
            ("a = \"\\uZZZZ\"\n", 1, "hex digits"),
            ("a = \"\\uD800\"\n", 1, "is not a character"),
            ("a = 1\na.b = 2\n", 2, "'a' is not a table"),
            ("[[a]]\n[a]\n", 2, "defined twice"),
            ("a = 1\n[[a]]\n", 2, "already defined"),
            ("a = \"x\u{7}\"\n", 1, "control character"),
            ("= 1\n", 1, "a key cannot start with '='"),
            ("a\n", 1, "expected '=' after the key 'a'"),
            ("a = 1.\n", 1, "is not a value"),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try TOMLTable(parsing: text), text) { error in
                guard let e = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.line, line, "\(text): \(e.message)")
                XCTAssertTrue(e.message.contains(message), "\(text): \(e.message)")
            }
        }
    }

    func testDeepNestingIsRefusedNotAStackOverflow() {
        let deep = "a = " + String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try TOMLTable(parsing: deep)) { XCTAssertTrue("\($0)".contains("nested more than 64 deep"), "\($0)") }
        let inline = "a = " + String(repeating: "{ b = ", count: 10_000)
        XCTAssertThrowsError(try TOMLTable(parsing: inline))
    }
}
