// swift-tools-version:6.0
import PackageDescription

// No Swift packages: Foundation, Dispatch and Synchronization from the toolchain, and
// Debian's C libraries through one system-library target each.
// Upcoming features that hold for every target: existentials spelled `any` (SE-0335), and a
// member usable only where its module is imported (SE-0444), so a file says what it depends on.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "refex",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "refex", targets: ["refex"]),
    ],
    targets: [
        // C libraries: module map and shim.h only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Pure Swift on Foundation.
        .target(name: "Timekeeping", swiftSettings: strict),
        .target(name: "Logging", dependencies: ["Timekeeping"], swiftSettings: strict),
        .target(name: "Metrics", swiftSettings: strict),
        // Long-running parts as services stopped in order, and the one sync-to-async bridge.
        .target(name: "Services", dependencies: ["Logging", "Timekeeping"], swiftSettings: strict),
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "JSONSchema", dependencies: ["JSON"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["JSON"], swiftSettings: strict),

        // The C boundary: these import C modules, and no C type leaves them.
        .target(name: "Crypto", dependencies: ["COpenSSL"], swiftSettings: strict),
        .target(name: "TLS", dependencies: ["COpenSSL", "Crypto"], swiftSettings: strict),

        .target(name: "SQLite", dependencies: ["CSQLite", "Timekeeping"], swiftSettings: strict),
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: strict),

        // The domain: no C, no SQL, no sockets.
        .target(name: "Exchange", dependencies: ["JSON", "JSONSchema", "Crypto", "Logging", "Timekeeping"], swiftSettings: strict),
        // The admin console: HTML pages over Exchange's typed answers; no C, no SQL, no sockets.
        .target(name: "Console", dependencies: ["Exchange", "JSON", "Crypto", "Timekeeping"], swiftSettings: strict),
        .target(name: "Store", dependencies: ["SQLite", "Postgres", "Exchange", "JSON", "Crypto", "Logging", "Timekeeping"], swiftSettings: strict),

        // I/O.
        .target(name: "HTTPClient", dependencies: ["CCurl", "Timekeeping"], swiftSettings: strict),
        .target(name: "Delivery", dependencies: ["Exchange", "HTTP", "HTTPClient", "Logging", "Metrics", "Services", "Timekeeping"], swiftSettings: strict),
        .target(name: "Server", dependencies: ["CLinux", "HTTP", "TLS", "Logging", "Metrics", "Timekeeping"], swiftSettings: strict),

        .target(name: "Sink", dependencies: ["Server", "HTTP", "TLS", "JSON", "Logging", "Metrics"], swiftSettings: strict),

        // The daemon and the command line.
        .target(
            name: "Daemon",
            dependencies: ["Server", "HTTP", "TLS", "Crypto", "JSON", "JSONSchema", "Logging", "Metrics", "Timekeeping", "Exchange", "Store", "Delivery", "Services", "Console"],
            swiftSettings: strict
        ),
        .executableTarget(name: "refex", dependencies: ["Daemon", "Sink", "Server", "HTTP", "Exchange", "Store", "JSON", "JSONSchema", "Services"], swiftSettings: strict),
        .executableTarget(name: "refex-bench", dependencies: ["CLinux", "TLS", "JSON"], path: "Benchmarks/LoadGenerator", swiftSettings: strict),
        .executableTarget(
            name: "schema-bench",
            dependencies: ["JSON", "JSONSchema"],
            path: "Benchmarks/SchemaBench",
            exclude: ["fixtures", "generate.py", "bench.py"],
            swiftSettings: strict
        ),

        // Tests.
        .target(name: "TestSupport", dependencies: ["JSON", "Exchange", "Crypto", "Timekeeping", "Postgres"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "JSONSchemaTests", dependencies: ["JSONSchema", "JSON", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "JSON"], swiftSettings: strict),
        .testTarget(name: "TimekeepingTests", dependencies: ["Timekeeping"], swiftSettings: strict),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"], swiftSettings: strict),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ServerTests", dependencies: ["Server", "HTTP"], swiftSettings: strict),
        .testTarget(name: "ServicesTests", dependencies: ["Services", "Logging"], swiftSettings: strict),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"], swiftSettings: strict),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ExchangeTests", dependencies: ["Exchange", "JSON", "JSONSchema", "Crypto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Exchange", "JSON", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Postgres", "Exchange", "JSON", "Crypto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Exchange", "Crypto", "HTTP", "JSON", "Store", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["JSON", "TestSupport"], swiftSettings: strict),
    ]
)
