import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ResultStore {
    /// Records the start of a run and returns its id. The run is `running`, owned by this process.
    public func beginRun(_ info: RunInfo) throws(StoreError) -> Int64 {
        // id 0 is "not inserted yet": the row is written without one and SQLite assigns it.
        let record = RunRecord(id: 0, info: info, pid: getpid(), host: Self.hostName, startedAt: Date())
        return try write { db in
            try record.insert(db)
            return db.lastInsertedRowID
        }
    }

    /// Records how a running run ended.
    ///
    /// - Parameters:
    ///   - status: `completed`, `failed` or `interrupted` (not `running`: use ``resumeRun(_:)``).
    ///   - message: why it failed, or any note.
    /// - Throws: ``StoreError/noSuchRun(_:)``; ``StoreError/runNotRunning(_:status:)`` if it already ended.
    public func finishRun(_ id: Int64, status: RunStatus, message: String? = nil) throws(StoreError) {
        precondition(status != .running, "finishRun needs a final status; resumeRun makes a run running again")
        try write { db in
            var run = try Self.runningRun(id, db)
            run.status = status
            run.finishedAt = Date()
            run.message = message
            try run.update(db)
        }
    }

    /// Makes a run `running` again in this process, to add the results it lacks, and returns the
    /// methods it already has (skip those).
    ///
    /// - Throws: ``StoreError/runInProgress(_:pid:host:)`` when the run is `running` in a live process.
    public func resumeRun(_ id: Int64) throws(StoreError) -> [String] {
        try write { db in
            guard var run = try RunRecord.fetchOne(db, key: id) else { throw StoreError.noSuchRun(id) }
            let ours = run.pid == getpid() && run.host == Self.hostName
            if run.status == .running && !ours && Self.isAlive(pid: run.pid, host: run.host) {
                throw StoreError.runInProgress(id, pid: run.pid, host: run.host)
            }
            run.status = .running
            run.finishedAt = nil
            run.message = nil
            run.pid = getpid()
            run.host = Self.hostName
            try run.update(db)
            return try Self.completedMethods(run: id, db)
        }
    }

    /// Marks a `running` run `interrupted`: its process was stopped before it could say how it ended.
    public func markInterrupted(run id: Int64) throws(StoreError) {
        try finishRun(id, status: .interrupted, message: "interrupted: the process stopped before finishing the run")
    }

    /// The `running` runs of this host whose process no longer exists: what
    /// ``markStaleRunsInterrupted()`` would mark, found without writing (so on read-only stores too).
    public func staleRuns() throws(StoreError) -> Set<Int64> {
        try read { db in
            Set(try Self.staleRuns(db).map(\.id))
        }
    }

    /// Marks `interrupted` every `running` run of this host whose process no longer exists, and
    /// returns their ids. Runs of other hosts are left alone: their pids mean nothing here.
    @discardableResult
    public func markStaleRunsInterrupted() throws(StoreError) -> [Int64] {
        try write { db in
            var marked: [Int64] = []
            for var run in try Self.staleRuns(db) {
                run.status = .interrupted
                run.finishedAt = Date()
                run.message = "interrupted: process \(run.pid) is gone"
                try run.update(db)
                marked.append(run.id)
            }
            return marked
        }
    }

    /// The newest runs first.
    public func runs(limit: Int = 50) throws(StoreError) -> [RunRecord] {
        try read { db in try RunRecord.order(Column("id").desc).limit(limit).fetchAll(db) }
    }

    /// One run, or `nil` if there is none with this id.
    public func run(_ id: Int64) throws(StoreError) -> RunRecord? {
        try read { db in try RunRecord.fetchOne(db, key: id) }
    }

    /// Deletes a run and everything recorded for it.
    public func deleteRun(_ id: Int64) throws(StoreError) {
        try write { db in
            guard try RunRecord.deleteOne(db, key: id) else { throw StoreError.noSuchRun(id) }
        }
    }

    // MARK: - Helpers

    /// The run, checked to exist and to be running: results are only added to running runs.
    static func runningRun(_ id: Int64, _ db: Database) throws -> RunRecord {
        guard let run = try RunRecord.fetchOne(db, key: id) else { throw StoreError.noSuchRun(id) }
        guard run.status == .running else { throw StoreError.runNotRunning(id, status: run.status) }
        return run
    }

    /// Whether a process exists (a pid can be reused after its process ends; then this says yes).
    /// The `running` runs of this host whose process no longer exists.
    static func staleRuns(_ db: Database) throws -> [RunRecord] {
        try RunRecord.filter(Column("status") == RunStatus.running.rawValue).fetchAll(db)
            .filter { $0.host == hostName && !isAlive(pid: $0.pid, host: $0.host) }
    }

    static func isAlive(pid: Int32, host: String) -> Bool {
        guard host == hostName else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// This machine's host name, as `gethostname` gives it.
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
