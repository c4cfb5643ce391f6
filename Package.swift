// swift-tools-version: 6.0
import PackageDescription

// Dependencies point one way: glimpse (app) -> Engine -> Models -> Tokenizers, Tensors -> GGUF.
// Numeric targets are built for the host CPU (like llama.cpp's GGML_NATIVE): Glimpse is built from source
// on the machine that runs it, and the kernels need AVX2/FMA/F16C (or NEON) to be fast.
let native: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native", "-Ounchecked"])]

let package = Package(
    name: "Glimpse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "glimpse", targets: ["glimpse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // HTTP: the client of remote panes (streams, TLS, timeouts) and the server of `glimpse serve`.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // The conversation history: SQLite (Debian's, with FTS5) in WAL mode.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // MARK: System libraries (Debian's -dev packages)
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CChafa", path: "Sources/CChafa", pkgConfig: "chafa",
                       providers: [.apt(["libchafa-dev", "libglib2.0-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),

        // MARK: Engine layers
        .target(name: "GGUF"),
        // libjpeg/libpng behind a C boundary that owns their setjmp/longjmp error handling.
        .target(name: "CImageCodec", dependencies: ["CJPEG", "CPNG"]),
        .target(name: "Vision", dependencies: ["CImageCodec", "Tensors", "GGUF"], swiftSettings: native),
        // The AVX2 dot kernels of the quantized types most files use (Swift cannot reach pmaddubsw); built for
        // the host CPU like the Swift targets, and left out (the Swift kernels used) where it has no AVX2.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-march=native"], .when(platforms: [.linux]))]),
        .target(name: "Tensors", dependencies: ["GGUF", "COpenBLAS", "CKernels"], swiftSettings: native),
        .target(name: "Tokenizers", dependencies: ["GGUF"]),
        .target(name: "Models", dependencies: ["GGUF", "Tensors", "Tokenizers"], swiftSettings: native),
        .target(name: "Engine", dependencies: ["Models", "Tokenizers", "GGUF", "Vision"]),
        // MiniGPT-v2's task tags and answer language (boxes); no dependencies.
        .target(name: "Tasks"),
        // The OpenAI chat-completions API: its wire types, a remote engine that streams from any server that
        // speaks it, and `glimpse serve`, which speaks it for local engines.
        .target(name: "OpenAI", dependencies: ["Engine", "Models"]),
        .target(name: "Remote", dependencies: ["OpenAI", "Engine", "Models", "Vision",
                                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                               .product(name: "NIOCore", package: "swift-nio"),
                                               .product(name: "NIOPosix", package: "swift-nio"),
                                               .product(name: "NIOHTTP1", package: "swift-nio")]),
        .target(name: "Server", dependencies: ["OpenAI", "Engine", "Models", "Vision",
                                               .product(name: "Hummingbird", package: "hummingbird"),
                                               .product(name: "Logging", package: "swift-log")]),

        // MARK: Terminal app: state, update and render (no ncurses), one ncurses backend, chafa previews
        .target(name: "UI", dependencies: ["Tasks"]),
        // The terminal restored whatever ends the process: signal handlers in C, where async-signal safety can be kept.
        .target(name: "CTerminalGuard"),
        .target(name: "Terminal", dependencies: ["UI", "CNcursesw", "CTerminalGuard"]),
        .target(name: "ImagePreview", dependencies: ["UI", "CChafa"]),
        // Conversations kept and searched: one SQLite database (migrations, full-text search, JSON files taken in).
        .target(name: "History", dependencies: ["UI", "Tasks", .product(name: "GRDB", package: "GRDB.swift")]),

        // MARK: App
        .executableTarget(name: "glimpse", dependencies: [
            "Engine", "Models", "GGUF", "Tensors", "CKernels", "Vision", "Tasks", "UI", "Terminal", "ImagePreview",
            "Remote", "Server", "History",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Fuzzing: every reader of strangers' files as a function of bytes; `glimpse-fuzz` drives them
        // (libFuzzer when built by scripts/fuzz, else it replays files).
        .target(name: "FuzzTargets", dependencies: ["GGUF", "Models", "Tokenizers", "Vision", "Tasks", "UI", "History"]),
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "glimpse-fuzz", dependencies: ["FuzzTargets", "CFuzzDriver"]),

        // MARK: Tests
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "GGUF"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tokenizers", "Tensors", "GGUF"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "Vision"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks"]),
        .testTarget(name: "ServeTests", dependencies: ["Server", "Remote", "OpenAI", "Engine", "Models", "Vision", "Tasks",
                                                     .product(name: "Hummingbird", package: "hummingbird"),
                                                     .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                     .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "HistoryTests", dependencies: ["History", "UI", "Tasks"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "UITests", dependencies: ["UI", "Tasks"], exclude: ["Snapshots"]),
        .testTarget(name: "ImagePreviewTests", dependencies: ["ImagePreview", "UI", "Tasks"]),
        .testTarget(name: "VisionTests", dependencies: ["Vision", "GGUF", "Tensors"]),
        // Runs the built `glimpse` binary (build with --build-tests first, as scripts/test does).
        .testTarget(name: "CLITests", dependencies: ["glimpse"]),
    ]
)
