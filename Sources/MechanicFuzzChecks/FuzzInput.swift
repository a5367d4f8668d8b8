import Foundation

/// The bytes libFuzzer hands a target, with the few ways targets carve them up.
///
/// Several targets read more than one file (vocab.json + merges.txt) or a file plus a choice
/// (which loader, which text to encode). They split the input at NUL bytes, which no valid JSON
/// or text file holds, so a seed is the files joined by `\0` and every mutation still lands in
/// one of them.
public struct FuzzInput {
    public let bytes: [UInt8]

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = Array(UnsafeBufferPointer(start: data, count: size))
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The first byte (a mode selector) and the rest; `nil` for empty input.
    public var modeAndRest: (mode: UInt8, rest: ArraySlice<UInt8>)? {
        guard let first = bytes.first else { return nil }
        return (first, bytes.dropFirst())
    }

    /// `bytes` split at NUL into at most `maxParts` parts (the last keeps any further NULs).
    public static func parts(_ bytes: ArraySlice<UInt8>, maxParts: Int) -> [ArraySlice<UInt8>] {
        bytes.split(separator: 0, maxSplits: maxParts - 1, omittingEmptySubsequences: false)
    }
}

/// A per-process scratch folder for targets whose parsers take only files.
///
/// On `/dev/shm` when it exists, so writing a file per execution costs a `memcpy`, not a disk
/// write. Each fuzzing process gets its own folder (libFuzzer `-jobs` runs several).
public enum Scratch {
    public static let folder: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("mechanic-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.folder) }
        return url
    }()

    /// A fresh, empty sub-folder `name` (emptied if it exists).
    public static func emptyFolder(_ name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `bytes` to `name` inside `folder` (default: the scratch folder) and returns its URL.
    @discardableResult
    public static func write(_ bytes: some Collection<UInt8>, to name: String, in folder: URL = Scratch.folder) -> URL {
        let url = folder.appendingPathComponent(name)
        guard (try? Data(bytes).write(to: url)) != nil else {
            fatalError("fuzz harness: cannot write \(url.path)")  // the harness, not the parser, failed
        }
        return url
    }
}

/// The repository root, found from this file's path (the checks run from a checkout).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Text for the loaded tokenizers to encode: the input's own bytes when they are UTF-8 (capped,
/// BPE is quadratic in a word's length), else a fixed sentence.
public func sampleText(_ bytes: ArraySlice<UInt8>, limit: Int = 256) -> String {
    if !bytes.isEmpty, let text = String(validating: bytes.prefix(limit), as: UTF8.self) { return text }
    return "When Mary and John went to the store, John gave a drink to Mary. 123 ü 日本 <|endoftext|>"
}
