import FuzzSupport
import MechanicFuzzChecks

/// libFuzzer target for task prompt files: the check itself is `checkFileTask` in the main package's
/// MechanicFuzzChecks module, which the test suite also runs on the seed corpus and seeded
/// mutations of it (FuzzSmokeTests), so CI exercises the same code for a short smoke time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    checkFileTask(FuzzInput(data, size).bytes)
    return 0
}

/// The process entry point SwiftPM links as `main` (see `runFuzzer`).
@_cdecl("FuzzFileTask_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzz(data ?? UnsafePointer(bitPattern: 1)!, size) }
}
