// swift-tools-version: 6.0
// Mechanic: mechanistic interpretability in Swift.
//
// Layers point one way (see STYLE.md):
//   CBLAS, CHeap → MechanicTensor → MechanicSafetensors, MechanicTokenizer → MechanicModel
//   → (analyses) → (outputs: MechanicExport, MechanicStore, which never import each other)
//   → Mechanic (umbrella) → MechanicCLI (`mechanic`).
//   CGraphviz (Graphviz's libgvc) is seen only by MechanicExport, which renders DOT in-process.
import Foundation
import PackageDescription

/// Release builds of the numeric targets skip bounds checks and, on x86-64, use AVX2 + FMA
/// (every x86-64 CPU since 2013), which roughly doubles the speed of the vector kernels.
/// `MECHANIC_PORTABLE=1 swift build -c release` builds for the baseline x86-64 instead.
let portable = ProcessInfo.processInfo.environment["MECHANIC_PORTABLE"] != nil
#if arch(x86_64)
let cpuFlags = portable ? [] : ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif
/// Debug builds of the numeric targets are optimised too (`-O`, bounds checks kept): the tests
/// run real models on real prompts, and unoptimised SIMD loops would make them crawl.
let release: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"] + cpuFlags, .when(configuration: .release)),
    .unsafeFlags(["-O"] + cpuFlags, .when(configuration: .debug)),
]

let package = Package(
    name: "Mechanic",
    products: [
        .library(name: "Mechanic", targets: ["Mechanic"]),
        .executable(name: "mechanic", targets: ["MechanicCLI"]),
        // The input checks the libFuzzer targets in Fuzz/ run (and FuzzSmokeTests replays on CI).
        .library(name: "MechanicFuzzChecks", targets: ["MechanicFuzzChecks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SQLite for the results store, over the system libsqlite3 (Debian: libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // Parses SentencePiece `tokenizer.model` files (generated code in MechanicTokenizer/SentencePiece).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Reads `mechanic sweep` plan files.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(name: "CHeap"),
        .systemLibrary(
            name: "CGraphviz",
            pkgConfig: "libgvc",
            providers: [.apt(["libgraphviz-dev"])]
        ),
        .target(name: "MechanicTensor", dependencies: ["CBLAS", "CHeap"], swiftSettings: release),
        .target(name: "MechanicSafetensors", dependencies: ["MechanicTensor"]),
        .target(name: "MechanicTokenizer", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "MechanicModel",
            dependencies: ["MechanicTensor", "MechanicSafetensors", "MechanicTokenizer"],
            swiftSettings: release
        ),
        .target(
            name: "MechanicBackward",
            dependencies: ["MechanicTensor", "MechanicTokenizer", "MechanicModel"],
            swiftSettings: release
        ),
        .target(name: "MechanicCorpus", dependencies: ["MechanicTensor", "MechanicTokenizer"]),
        .target(
            name: "MechanicTraining",
            dependencies: ["MechanicTensor", "MechanicSafetensors", "MechanicTokenizer", "MechanicModel",
                           "MechanicBackward", "MechanicCorpus"],
            swiftSettings: release
        ),
        .target(name: "MechanicSAE", dependencies: ["MechanicTensor", "MechanicSafetensors"], swiftSettings: release),
        .target(name: "MechanicTasks", dependencies: ["MechanicTensor", "MechanicTokenizer", "MechanicModel", "MechanicCorpus"]),
        .target(name: "MechanicCircuits",
                dependencies: ["MechanicTensor", "MechanicTokenizer", "MechanicModel", "MechanicBackward", "MechanicSAE", "MechanicTasks", "MechanicCorpus"],
                swiftSettings: release),
        .target(name: "MechanicSinks", dependencies: ["MechanicTensor", "MechanicTokenizer", "MechanicModel"],
                swiftSettings: release),
        .target(
            name: "MechanicStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "MechanicTasks", "MechanicCircuits", "MechanicSAE",
                           "MechanicSinks"],
            swiftSettings: release
        ),
        // Writes results in a loop until killed: the child process of the store's crash-safety test.
        .executableTarget(name: "MechanicStoreStress", dependencies: ["MechanicStore", "MechanicCircuits", "MechanicTasks"]),
        .target(name: "MechanicExport",
                dependencies: ["MechanicTensor", "MechanicSinks", "MechanicCircuits", "MechanicTraining", "MechanicCorpus", "CGraphviz"]),
        .target(
            name: "Mechanic",
            dependencies: ["MechanicTensor", "MechanicSafetensors", "MechanicTokenizer", "MechanicModel",
                           "MechanicBackward", "MechanicCorpus", "MechanicTraining", "MechanicSAE", "MechanicTasks", "MechanicCircuits", "MechanicSinks",
                           "MechanicExport", "MechanicStore"]
        ),
        .executableTarget(
            name: "MechanicCLI",
            dependencies: [
                "Mechanic",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // What a fuzz target checks on one input: parse it as the CLI would, trap on a finding.
        .target(name: "MechanicFuzzChecks",
                dependencies: ["MechanicSafetensors", "MechanicTokenizer", "MechanicModel", "MechanicTasks", "MechanicCircuits",
                               "MechanicExport", "CGraphviz"]),
        // The library tour analysis scripts start from (README "Library"); built and run by the tests.
        .executableTarget(name: "MechanicExample", dependencies: ["Mechanic"]),
        .testTarget(name: "MechanicTensorTests", dependencies: ["MechanicTensor"]),
        .testTarget(name: "MechanicSafetensorsTests", dependencies: ["MechanicSafetensors"]),
        .testTarget(name: "MechanicTokenizerTests", dependencies: ["MechanicTokenizer", "MechanicTensor"]),
        .testTarget(name: "MechanicModelTests", dependencies: ["MechanicModel"]),
        .testTarget(name: "MechanicBackwardTests", dependencies: ["MechanicBackward", "MechanicSafetensors"]),
        .testTarget(name: "MechanicCorpusTests", dependencies: ["MechanicCorpus"]),
        .testTarget(name: "MechanicTrainingTests", dependencies: ["MechanicTraining"]),
        .testTarget(name: "MechanicSAETests", dependencies: ["MechanicSAE"]),
        .testTarget(name: "MechanicTasksTests", dependencies: ["MechanicTasks"]),
        .testTarget(name: "MechanicCircuitsTests", dependencies: ["MechanicCircuits", "MechanicCorpus"]),
        .testTarget(name: "MechanicSinksTests", dependencies: ["MechanicSinks"]),
        .testTarget(name: "MechanicStoreTests",
                    dependencies: ["MechanicStore", "MechanicStoreStress", "MechanicSinks", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "MechanicExportTests", dependencies: ["MechanicExport"], exclude: ["Snapshots"]),
        .testTarget(name: "MechanicCLITests", dependencies: ["MechanicCLI", "MechanicExample", "Mechanic"], exclude: ["Snapshots"]),
        .testTarget(name: "MechanicArtifactTests", dependencies: ["Mechanic"]),
        .testTarget(name: "MechanicFuzzChecksTests", dependencies: ["MechanicFuzzChecks"]),
    ]
)
