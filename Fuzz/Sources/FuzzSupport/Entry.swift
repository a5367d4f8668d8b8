import CFuzzerDriver

/// Runs libFuzzer on `callback` with the process's arguments, for a target's `<Module>_main`.
///
/// SwiftPM links an executable target on Linux with `main` aliased to `<Module>_main`; libFuzzer
/// brings its own `main` only when SwiftPM is told `--sanitize=fuzzer`. Each target therefore
/// defines `<Module>_main` calling this, and links whichever way it is built.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
