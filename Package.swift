// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "skiff",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skiff", targets: ["skiff"]),
        .executable(name: "skiff-bench", targets: ["skiff-bench"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "KineLayer", targets: ["KineLayer"]),
        .library(name: "EtcdServer", targets: ["EtcdServer"]),
        .library(name: "APIServer", targets: ["APIServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite3",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "Storage",
            dependencies: [
                "CSQLite3",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // glibc's malloc.h (malloc_trim), declared by its header rather than by a symbol name.
        .systemLibrary(name: "CMalloc"),
        // zlib, for SPDY/3.1's header compression (exec, attach and port forwarding to kubelets).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CDqlite",
            pkgConfig: "dqlite",
            providers: [.apt(["libdqlite-dev", "libraft-dev"])]
        ),
        // The node process's deferred teardown of libraft's AIO contexts (a C definition of
        // syscall(2); the skiff executable exports it so that libraft's calls resolve to it).
        .target(name: "CAIOTeardown"),
        // The node process's limit on the entries one Raft AppendEntries message carries (a C
        // definition of libuv's uv_write; the skiff executable exports it for libraft).
        .target(name: "CRaftSendLimit"),
        .target(
            name: "Cluster",
            dependencies: [
                "CAIOTeardown",
                "CDqlite",
                "CRaftSendLimit",
                "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "KineLayer",
            dependencies: [
                "Storage",
                "CMalloc",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EtcdAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "EtcdServer",
            dependencies: [
                "EtcdAPI",
                "KineLayer",
                "Storage",
                "SystemFigures",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "OpenAPIDocuments",
            path: "openapi",
            exclude: ["README.md"],
            resources: [.copy("definitions.json"), .copy("resources.json"), .copy("protobuf.json")]
        ),
        .target(name: "SystemFigures"),
        .target(
            name: "APIServer",
            dependencies: [
                "KineLayer",
                "SystemFigures",
                "CZlib",
                "OpenAPIDocuments",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "skiff",
            dependencies: [
                "APIServer",
                "SystemFigures",
                "Cluster",
                "EtcdServer",
                "KineLayer",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // libraft (a shared library) must find the node process's syscall(2) and uv_write
            // in the executable: see CAIOTeardown and CRaftSendLimit.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=syscall",
                                           "-Xlinker", "--export-dynamic-symbol=uv_write"])]
        ),
        .executableTarget(
            name: "skiff-bench",
            dependencies: [
                "Cluster",
                "SystemFigures",
                "EtcdAPI",
                "EtcdServer",
                "KineLayer",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "KineLayerTests", dependencies: ["KineLayer", "Storage", "TestSupport", "skiff-bench"]),
        .testTarget(name: "EtcdServerTests", dependencies: ["EtcdServer", "EtcdAPI", "KineLayer", "TestSupport", "skiff"], exclude: ["python"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "CRaftSendLimit", "Storage", "TestSupport", "skiff", .product(name: "NIOSSL", package: "swift-nio-ssl")], exclude: ["python"]),
        .testTarget(name: "EngineTests", dependencies: ["APIServer", "KineLayer", "SystemFigures", "TestSupport",
                                                     .product(name: "NIOHTTP1", package: "swift-nio"),
                                                     .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "APIServerTests", dependencies: ["APIServer", "KineLayer", "TestSupport", "skiff"], exclude: ["python", "Fixtures"]),
    ]
)
