import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Where a remote model is served: an OpenAI-compatible base URL (`http://gpu-box:8000/v1`), the model's id
/// there, and the API key (read from the environment variable the configuration names, never from the file).
public struct RemoteEndpoint: Sendable, Equatable {
    /// Without a trailing slash; ends in `/v1` for every server known.
    public let baseURL: String
    public let model: String
    public let apiKey: String?
    /// The longest wait for the server to say anything: the first token, or the next piece of an answer.
    public let timeout: Double

    public init(baseURL: String, model: String, apiKey: String? = nil, timeout: Double = 120) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.model = model
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.timeout = timeout
    }

    /// `host:port`, for messages and the pane header.
    public var host: String {
        guard let url = URL(string: baseURL), let host = url.host else { return baseURL }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    func request(_ path: String, method: HTTPMethod = .GET) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: baseURL + path)
        r.method = method
        r.headers.add(name: "Accept", value: method == .POST ? "text/event-stream, application/json" : "application/json")
        r.headers.add(name: "User-Agent", value: "glimpse")
        if let apiKey { r.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return r
    }
}

/// HTTP clients kept for the life of the process, one per timeout (AsyncHTTPClient's read timeout is the
/// client's, not the request's). A refused connection fails at once instead of being retried with backoff.
enum HTTPClients {
    private static let clients = Mutex<[Int: HTTPClient]>([:])

    static func client(timeout: Double) -> HTTPClient {
        let key = Int((timeout * 1000).rounded())
        return clients.withLock { clients in
            if let c = clients[key] { return c }
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(10), read: .milliseconds(Int64(key)))
            configuration.connectionPool.retryConnectionEstablishment = false
            // Side-by-side panes and bench-serve's clients each hold a streaming connection.
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
            let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[key] = c
            return c
        }
    }
}
