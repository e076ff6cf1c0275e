// swift-tools-version:6.0
// incident-manager: a gRPC-first security incident service on the gRPC C core.
// Module arrows (user -> used) follow DESIGN.md; none may point back.
import PackageDescription

let package = Package(
    name: "incident-manager",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "incident-server", targets: ["incident-server"]),
        .executable(name: "incidentctl", targets: ["incidentctl"]),
    ],
    dependencies: [
        // The YAML config file; libyaml inside, no further dependencies.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // incidentctl's subcommands, flags and help.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Logging API the server's log lines go through; our JSON/text handler is the backend.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Metrics API (counters, gauges, timers) the service records into, independent of the backend.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Prometheus backend for swift-metrics: the registry and its text exposition for GET /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `incidentctl bench` only: HDR latency histograms (p99.9 and max to 3 significant digits in fixed
        // memory, mergeable across workers), the structure ghz and wrk2 report from; not linked into the server.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // incident-server's components as services of one ServiceGroup: start order, graceful shutdown in reverse on
        // SIGTERM/SIGINT, and the signal handling itself (SIGHUP too), which the RPC library leaves to its users.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The HTTP door (issue 15): HTTP/1.1 server, router and TLS on SwiftNIO, so no HTTP parser of our own.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // The Edge Agent WebSocket (`/ws/events`) on the HTTP door's listener.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // gzip of the Edge Agent's batches (zlib inside), with a cap on the expanded size.
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // multipart/form-data bodies of the CSV upload (a browser form or `curl -F file=@…`).
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        // Named for the HTTP door's direct imports (the connection's TLS peer certificate, HTTP field names);
        // Hummingbird brings the same versions.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // POST /graphql on the HTTP door (issue 16): the GraphQL parser, validator and executor, so no query language
        // of our own. Used without Graphiti (built on it): the guide's field names mix snake_case and camelCase, and
        // the depth and cost limits read the parsed document, both plainer on GraphQL's own types.
        .package(url: "https://github.com/GraphQLSwift/GraphQL", from: "4.3.0"),
    ],
    targets: [
        // MARK: C doors
        // grpc is linked by name: its pkg-config file drags ~78 abseil libraries
        // into the link line (see notes/grpc-core-1.51-from-swift.md).
        .target(
            name: "CGRPC",
            linkerSettings: [.linkedLibrary("grpc"), .linkedLibrary("gpr")]
        ),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // MARK: RPC and the codec runtime
        // COpenSSL for certificate fingerprints and key checks; CGRPC is the door to grpc only.
        .target(
            name: "RPC",
            dependencies: ["CGRPC", "COpenSSL", "ThreadExecutors", .product(name: "Logging", package: "swift-log")]),
        // A thread of its own for tasks that must not queue behind the shared pool (urgent calls, the job runner).
        .target(name: "ThreadExecutors"),
        .target(name: "ProtoWire"),

        // MARK: code generation (build time)
        .target(name: "ProtoSyntax", path: "codegen/ProtoSyntax"),
        .target(name: "ProtoSwiftGenerator", dependencies: ["ProtoSyntax"], path: "codegen/ProtoSwiftGenerator"),
        .executableTarget(
            name: "proto-codegen",
            dependencies: ["ProtoSyntax", "ProtoSwiftGenerator"],
            path: "codegen/proto-codegen"
        ),
        .plugin(
            name: "ProtoCodegenPlugin",
            capability: .buildTool(),
            dependencies: ["proto-codegen"],
            path: "codegen/ProtoCodegenPlugin"
        ),
        .target(
            name: "IncidentAPI",
            dependencies: ["ProtoWire", "RPC"],
            plugins: ["ProtoCodegenPlugin"]
        ),

        // MARK: domain, storage, service
        .target(name: "IncidentCore", dependencies: ["COpenSSL", .product(name: "Yams", package: "Yams")]),
        // The OpenSSL implementations of IncidentCore's crypto protocols (JWT signature keys). Not named `Crypto`:
        // swift-crypto's module of that name comes in with Hummingbird, and module names are one namespace.
        .target(name: "SignatureKeys", dependencies: ["COpenSSL", "IncidentCore"]),
        .target(name: "Integrations", dependencies: ["IncidentCore", "ProtoWire"]),
        .target(name: "IncidentStore", dependencies: ["CLibPQ", "IncidentCore"]),
        .target(
            name: "IncidentServer",
            dependencies: [
                "RPC", "IncidentAPI", "IncidentCore", "IncidentStore", "Integrations", "ThreadExecutors", "SignatureKeys",
                "ProtoWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP door: REST reads and writes, webhooks, HTML pages, translated into IncidentServer's one intake.
        .target(
            name: "HTTPDoor",
            dependencies: [
                "IncidentServer", "IncidentCore", "IncidentStore", "IncidentAPI", "ProtoWire", "RPC", "Integrations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GraphQL", package: "GraphQL"),
            ]
        ),
        .executableTarget(
            name: "incident-server",
            dependencies: [
                "IncidentServer", "HTTPDoor", "IncidentCore", "IncidentStore", "RPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // systemd unit, Containerfile and Kubernetes example: documents for operators, not resources.
            exclude: ["Deploy"]
        ),
        .executableTarget(
            name: "incidentctl",
            dependencies: [
                "RPC", "IncidentAPI", "IncidentCore", "ProtoWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // MARK: RPC interop and benchmark tools (run by make test-interop / make bench-rpc)
        .executableTarget(
            name: "rpc-interop-server",
            dependencies: [
                "RPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Tests/interop/Server"),
        .executableTarget(
            name: "rpc-bench", dependencies: ["RPC"], path: "Tests/Benchmarks/RPCBench", exclude: ["run-bench.sh"]),

        // MARK: benchmarks (run by `make bench-codec`)
        .executableTarget(name: "codec-bench", dependencies: ["IncidentAPI", "ProtoWire"], path: "Tests/Benchmarks/CodecBenchmark"),

        // MARK: tests (one target per module)
        .testTarget(name: "RPCTests", dependencies: ["RPC"], exclude: ["Fixtures"]),
        .testTarget(name: "ThreadExecutorsTests", dependencies: ["ThreadExecutors"]),
        .testTarget(
            name: "ProtoWireTests",
            dependencies: ["ProtoWire", "RPC"],
            exclude: ["Protos"],
            plugins: ["ProtoCodegenPlugin"]
        ),
        // Golden/: the generator's expected output for Protos/ (`.swift.golden`, never compiled; `make golden`).
        .testTarget(name: "ProtoSyntaxTests", dependencies: ["ProtoSyntax", "ProtoSwiftGenerator"], exclude: ["Golden"]),
        .testTarget(name: "IncidentAPITests", dependencies: ["IncidentAPI", "ProtoWire", "RPC"]),
        .testTarget(name: "IncidentCoreTests", dependencies: ["IncidentCore"]),
        // Runs the built incidentctl binary, as a user would.
        .testTarget(
            name: "IncidentCtlTests", dependencies: ["IncidentCore", "incidentctl", "RPC"],
            resources: [.copy("Fixtures")]),
        // A real HTTP peer on loopback for the tests of outbound calls (one copy for every test target).
        .target(name: "HTTPTestSupport", path: "Tests/Support/HTTPTestSupport"),
        .testTarget(name: "IntegrationsTests", dependencies: ["Integrations", "IncidentCore", "HTTPTestSupport"]),
        .testTarget(name: "IncidentStoreTests", dependencies: ["IncidentStore", "IncidentCore"]),
        .testTarget(
            name: "IncidentServerTests",
            dependencies: [
                "IncidentServer", "IncidentAPI", "IncidentCore", "IncidentStore", "RPC", "HTTPTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
        ),
        // P0 create-to-page latency alone and under a flood (run by `make bench-p0`).
        .executableTarget(
            name: "p0-flood-bench", dependencies: ["RPC", "IncidentAPI", "HTTPTestSupport"],
            path: "Tests/Benchmarks/P0FloodBench",
            exclude: ["run-p0-bench.sh"]),
        // PII redaction CPU per 16 KiB, worst-case and ordinary text (run by `make bench-redact`).
        .executableTarget(name: "redact-bench", dependencies: ["IncidentCore"], path: "Tests/Benchmarks/RedactBench"),
        .executableTarget(
            name: "StoreBenchmark",
            dependencies: ["IncidentStore", "IncidentCore"],
            path: "Tests/Benchmarks/StoreBenchmark"
        ),
    ]
)
