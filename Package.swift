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
        .library(name: "APIServer", targets: ["APIServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
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
            ]
        ),
        .target(
            name: "KineLayer",
            dependencies: [
                "Storage",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "APIServer",
            dependencies: [
                "KineLayer",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "skiff",
            dependencies: [
                "APIServer",
                "KineLayer",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "skiff-bench",
            dependencies: [
                "KineLayer",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "KineLayerTests", dependencies: ["KineLayer", "Storage", "skiff-bench"]),
        .testTarget(name: "APIServerTests", dependencies: ["APIServer", "KineLayer", "skiff"]),
    ]
)
