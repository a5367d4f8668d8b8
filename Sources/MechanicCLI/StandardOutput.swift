import Foundation

/// Standard output checked like any other output file: a closed pipe (`mechanic … | head -0`)
/// or a full device (`> /dev/full`) is one line on standard error and a non-zero exit, never a
/// silent success, a lost tail or death by SIGPIPE.
///
/// Output goes straight to file descriptor 1 (no stdio buffer, whose errors Swift 6 cannot
/// reach: C's `stdout` is shared mutable state), and the first failed write is remembered for
/// ``finish()``. Later writes are skipped: the reader is gone or the device is full.
enum StandardOutput {
    /// Exit status of a command whose output could not be written (`EX_IOERR` of sysexits.h).
    static let writeFailure: Int32 = 74

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var failure: Int32?
    }
    private static let state = State()

    /// Turns SIGPIPE into EPIPE write errors, which ``finish()`` (and ``OutputFile``) report.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `text` to standard output, or remembers why it could not.
    static func write(_ text: String) {
        state.lock.lock()
        defer { state.lock.unlock() }
        guard state.failure == nil else { return }
        if let code = writeAll(text, to: STDOUT_FILENO) { state.failure = code }
    }

    /// If anything written to standard output was lost, says so and exits non-zero.
    static func finish() {
        state.lock.lock()
        let failure = state.failure
        state.lock.unlock()
        guard let failure else { return }
        printError("Error: cannot write to standard output: \(String(cString: strerror(failure))).")
        exit(writeFailure)
    }

    /// Writes every byte of `text` to `descriptor`; the errno of a failure, or nil.
    static func writeAll(_ text: String, to descriptor: Int32) -> Int32? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
    }
}

/// write(2), out of reach of ``StandardOutput/write(_:)``'s name.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// Every `print` of the CLI goes through ``StandardOutput`` (this shadows `Swift.print` in the
/// module), so no command can write to standard output unchecked.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    StandardOutput.write(items.map { "\($0)" }.joined(separator: separator) + terminator)
}
