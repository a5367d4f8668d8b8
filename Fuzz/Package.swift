// swift-tools-version: 6.0
// Coverage-guided fuzz targets for Mechanic's input parsers (libFuzzer, shipped with the Swift
// toolchain on Linux). A package of its own so the main build and `swift test` never see it.
//
// Each executable defines `LLVMFuzzerTestOneInput` and `<Module>_main`, which runs libFuzzer's
// driver on it; it links only when built with the sanitizer flags `scripts/fuzz.sh` passes:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address   (from Fuzz/)
// (one comma-separated flag: swiftc keeps only the last `-sanitize`, so SwiftPM's
// `--sanitize=fuzzer --sanitize=address` builds without coverage instrumentation).
// A thrown Swift error is a correct answer to bad input; only crashes, traps, sanitizer reports,
// timeouts and memory blow-ups are findings.
import PackageDescription

/// A target per parser: `FuzzX` fuzzes the parser, `Corpus/X` holds its seeds.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", .product(name: "MechanicFuzzChecks", package: "Mechanic")] + dependencies,
        // No `main.swift`: `<Module>_main` hands LLVMFuzzerTestOneInput to libFuzzer's driver.
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let package = Package(
    name: "MechanicFuzz",
    dependencies: [
        .package(name: "Mechanic", path: ".."),
    ],
    targets: [
        // libFuzzer's driver entry point, for the targets' `main` (see FuzzSupport/Entry.swift).
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        fuzzTarget("FuzzSafetensors"),
        fuzzTarget("FuzzModelConfig"),
        fuzzTarget("FuzzTokenizer"),
        fuzzTarget("FuzzFileTask"),
        fuzzTarget("FuzzDOT"),
    ]
)
