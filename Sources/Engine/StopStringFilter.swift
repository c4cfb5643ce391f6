/// Holds back streamed text that might be the start of a stop string, and cuts at a full one.
struct StopStringFilter {
    let stops: [String]
    private var held = ""

    init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Returns the text safe to emit and whether a stop string was reached.
    mutating func push(_ text: String) -> (emit: String, stopped: Bool) {
        held += text
        for stop in stops {
            if let r = held.range(of: stop) {
                let out = String(held[..<r.lowerBound])
                held = ""
                return (out, true)
            }
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            var n = min(stop.count - 1, held.count)
            while n > keep {
                if held.hasSuffix(stop.prefix(n)) { keep = n; break }
                n -= 1
            }
        }
        let cut = held.index(held.endIndex, offsetBy: -keep)
        let out = String(held[..<cut])
        held = String(held[cut...])
        return (out, false)
    }

    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
