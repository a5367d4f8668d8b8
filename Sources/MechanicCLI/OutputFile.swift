import Foundation

/// Writes a command's output file without damaging what is at the path.
///
/// A regular file (or a new path) is replaced atomically: a temporary file in the same folder,
/// then a rename, so a reader never sees half a file. Anything else is written in place, since
/// renaming over it would replace it with a regular file: a symbolic link is followed to its
/// target (which is then replaced atomically), and a device node, FIFO or socket (`/dev/null`,
/// `/dev/stdout`, a named pipe) is opened and written as it is. `-` is standard output. Every
/// write is checked: a full disk or a closed pipe is an error, never silent success or a crash.
enum OutputFile {
    static func write(_ data: Data, to path: String) throws {
        if path == "-" { return try writeInPlace(data, handle: FileHandle.standardOutput, path: "standard output") }
        let expanded = (path as NSString).expandingTildeInPath
        let target = URL(fileURLWithPath: expanded).resolvingSymlinksInPath().path
        var status = stat()
        if stat(target, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG {
            if (status.st_mode & S_IFMT) == S_IFDIR { throw CLIError("cannot write \(path): it is a folder; give a file name") }
            guard let handle = FileHandle(forWritingAtPath: target) else {
                throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            defer { try? handle.close() }
            return try writeInPlace(data, handle: handle, path: path)
        }
        do {
            try data.write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch let error as CocoaError {
            throw CLIError("cannot write \(path): \(reason(error, target: target))")
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Writes all of `data` to an open handle, turning write failures (EPIPE, ENOSPC) into one line.
    private static func writeInPlace(_ data: Data, handle: FileHandle, path: String) throws {
        do {
            try handle.write(contentsOf: data)
        } catch {
            let code = (error as NSError).code
            let text = code > 0 ? String(cString: strerror(Int32(code))) : error.localizedDescription
            throw CLIError("cannot write \(path): \(text)")
        }
    }

    private static func reason(_ error: CocoaError, target: String) -> String {
        let folder = (target as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return "the folder \(folder) does not exist"
        }
        if !FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) { return "permission denied in \(folder)" }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }
}
