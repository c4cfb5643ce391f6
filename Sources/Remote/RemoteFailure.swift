import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// What went wrong talking to a server, in one line the user can act on.
enum RemoteFailure {
    /// A failure to connect or to read. `midAnswer`: text had already arrived (it stays on screen, marked).
    static func message(for error: Error, _ endpoint: RemoteEndpoint, midAnswer: Bool) -> String {
        let host = endpoint.host
        let incomplete = "the answer above is incomplete"
        if let e = error as? HTTPClientError {
            switch e {
            case .readTimeout:
                return midAnswer
                    ? "\(host) sent nothing for \(seconds(endpoint.timeout)) mid-answer: \(incomplete)"
                    : "no answer from \(host) in \(seconds(endpoint.timeout)) (the model's `timeout` setting allows longer)"
            case .remoteConnectionClosed:
                return midAnswer ? "the connection to \(host) closed mid-answer: \(incomplete)"
                    : "\(host) closed the connection without answering"
            case .connectTimeout: return "\(host) did not accept a connection within 10 s"
            case .tlsHandshakeTimeout: return "TLS with \(host) did not complete within 10 s"
            case .invalidURL, .emptyHost, .emptyScheme: return "'\(endpoint.baseURL)' is not a URL Glimpse can reach (\(e))"
            default: break
            }
        }
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty, e.dnsAError != nil || e.dnsAAAAError != nil {
                return "cannot find the host '\(e.host)' (DNS lookup failed)"
            }
            if e.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return "\(host) refused the connection: is the server running, on that port?"
            }
            if let first = e.connectionErrors.first { return "cannot connect to \(host): \(first.error)" }
        }
        if let e = error as? IOError, e.errnoCode == ECONNREFUSED {
            return "\(host) refused the connection: is the server running, on that port?"
        }
        if error is SocketAddressError { return "cannot find the host of \(endpoint.baseURL) (DNS lookup failed)" }
        if let e = error as? ChannelError, case .connectTimeout = e { return "\(host) did not accept a connection within 10 s" }
        // NIOSSL's and BoringSSL's errors, without depending on NIOSSL for their names.
        let kind = String(reflecting: type(of: error))
        if kind.contains("SSL") || kind.contains("TLS") {
            let said = "\(error)"
            if said.contains("WRONG_VERSION_NUMBER") || said.contains("HTTP_REQUEST") {
                return "TLS with \(host) failed: the server does not speak TLS there (is it http:// rather than https://?)"
            }
            if said.lowercased().contains("certificate") {
                return "TLS with \(host) failed: its certificate is not trusted on this machine (\(oneLine(String(said.prefix(160)))))"
            }
            return "TLS with \(host) failed (\(oneLine(String(said.prefix(160)))))"
        }
        if midAnswer { return "the connection to \(host) failed mid-answer (\(error)): \(incomplete)" }
        return "cannot reach \(host): \(error)"
    }

    /// A refusal with an HTTP status. `detail` is the server's own message (OpenAI's error body, or its text).
    static func message(status: Int, detail: String, _ endpoint: RemoteEndpoint, keyVariable: String?) -> String {
        let host = endpoint.host
        let said = detail.isEmpty ? "" : ": \(detail)"
        switch status {
        case 401, 403:
            let hint: String
            if endpoint.apiKey == nil {
                hint = keyVariable.map { " (no key was sent: $\($0) is not set)" } ?? " (no key was sent: set api_key_env for this model)"
            } else {
                hint = keyVariable.map { " (check $\($0))" } ?? ""
            }
            return "\(host) refused the API key (\(status))\(said)\(hint)"
        case 404: return "\(host) does not serve the model '\(endpoint.model)' or has no \(endpoint.baseURL)/chat/completions (404)\(said)"
        case 413: return "\(host) refused the request as too large (413)\(said)"
        case 429: return "\(host) is rate-limiting (429) and still was after retrying\(said)"
        case 503: return "\(host) is unavailable or still loading (503) and still was after retrying\(said)"
        case 500 ..< 600: return "\(host) failed with an error (\(status))\(said)"
        default: return "\(host) refused the request (\(status))\(said)"
        }
    }

    /// The message in an error body: OpenAI's `{"error": {"message"}}`, a bare `{"error": "..."}`, or the text.
    static func detail(of body: [UInt8]) -> String {
        if let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            if let e = json["error"] as? [String: Any], let m = e["message"] as? String { return oneLine(m) }
            if let m = json["error"] as? String { return oneLine(m) }
            if let m = json["message"] as? String { return oneLine(m) }
            if let m = json["detail"] as? String { return oneLine(m) }
        }
        return oneLine(String(decoding: body.prefix(300), as: UTF8.self))
    }

    static func oneLine(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return flat.count > 300 ? String(flat.prefix(300)) + "..." : flat
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }
}
