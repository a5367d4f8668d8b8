import Foundation

/// Checksums of files a run depends on, so a stored result can be tied to the exact weights.
public enum FileChecksum {
    /// `sha256:<hex>` of a file's bytes, read 1 MiB at a time.
    ///
    /// For a model folder pass its `model.safetensors`; the result matches `sha256sum` and the
    /// Hugging Face Hub's LFS object id.
    public static func sha256(path: String) throws(StoreError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadableFile(path: path, detail: "no such file, or no permission to read it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        } catch {
            throw .unreadableFile(path: path, detail: error.localizedDescription)
        }
        return "sha256:" + SHA256.hex(digest: hasher.finalize())
    }

    /// Lowercase hex SHA-256 of bytes (job fingerprints, for example).
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hex(data)
    }
}
