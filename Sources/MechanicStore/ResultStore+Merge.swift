import Foundation
import GRDB

/// Merging stores: shards written on other machines (or by other processes) into this one.
extension ResultStore {
    /// What one shard contributed.
    public struct MergeSummary: Codable, Equatable, Sendable {
        public var shard: String
        /// Finished runs in the shard.
        public var runs: Int
        /// Runs copied in, with their new ids here.
        public var merged: [Int64]
        /// Runs already here (same command, arguments, seed, model, host, process and start time).
        public var duplicates: Int
        /// Runs still `running` in the shard: not copied (their results may be partial).
        public var unfinished: Int
    }

    /// Tables copied with each run, parents before children. `sink_heads` follows its analysis.
    static let runTables = ["tasks", "prompts", "ground_truth", "methods", "head_scores", "edge_scores", "circuit_heads",
                            "evaluations", "label_controls", "label_control_heads", "saes", "edge_methods",
                            "graph_edge_scores", "faithfulness_curves", "faithfulness_points"]

    /// Copies every finished run of the store at `shard` into this store, one transaction per run,
    /// with its task, prompts, scores, evaluations, controls, SAEs and sink analyses; runs get new
    /// ids here and keep their provenance (command, arguments, seed, model, host, process, times).
    /// A run already here, the same run by its provenance, is skipped, so merging a shard twice
    /// changes nothing.
    ///
    /// The shard is only read. It is checked before anything is written: one that is not a
    /// Mechanic store, is corrupt, or comes from a newer Mechanic is refused and this store is left
    /// as it was. A shard from an older Mechanic merges what its schema has.
    public func merge(shard path: String) throws(StoreError) -> MergeSummary {
        if isReadOnly { throw .readOnly(path: self.path) }
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
        let shard = try Self.checkedShard(path)
        var summary = MergeSummary(shard: path, runs: 0, merged: [], duplicates: 0, unfinished: 0)
        do {
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS shard", arguments: [path])
                defer { try? db.execute(sql: "DETACH DATABASE shard") }
                let runs = try Row.fetchAll(db, sql: "SELECT * FROM shard.runs ORDER BY id")
                for run in runs {
                    if (run["status"] as String?) == "running" { summary.unfinished += 1; continue }
                    summary.runs += 1
                    let duplicate = try Bool.fetchOne(db, sql: """
                        SELECT EXISTS(SELECT 1 FROM runs WHERE command IS ? AND arguments IS ? AND seed IS ? AND model_checksum IS ?
                                      AND host IS ? AND pid IS ? AND started_at IS ?)
                        """, arguments: StatementArguments(["command", "arguments", "seed", "model_checksum", "host", "pid", "started_at"]
                                                              .map { run[$0] as DatabaseValue })) ?? false
                    if duplicate { summary.duplicates += 1; continue }
                    try db.inTransaction {
                        summary.merged.append(try Self.copy(run: run["id"] as Int64, tables: shard.tables, db))
                        return .commit
                    }
                }
            }
        } catch {
            throw StoreError.wrapping(error, path: path)
        }
        return summary
    }

    /// A shard's tables and their columns, once it is known to be a readable Mechanic store whose
    /// schema this Mechanic knows.
    struct Shard {
        var tables: [String: [String]]
    }

    static func checkedShard(_ path: String) throws(StoreError) -> Shard {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db -> Shard in
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else { throw StoreError.corrupt(path: path, detail: check.prefix(3).joined(separator: "; ")) }
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                guard names.contains("grdb_migrations"), names.contains("runs") else { throw StoreError.notMechanicDatabase(path: path) }
                let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
                let unknown = applied.subtracting(Schema.migrator.migrations)
                if !unknown.isEmpty { throw StoreError.schemaTooNew(path: path, unknownMigrations: unknown.sorted()) }
                var tables: [String: [String]] = [:]
                for name in names where name != "grdb_migrations" && !name.hasPrefix("sqlite_") {
                    tables[name] = try Row.fetchAll(db, sql: "PRAGMA table_info(\(name))").map { $0["name"] }
                }
                return Shard(tables: tables)
            }
        } catch {
            throw StoreError.wrapping(error, path: path)
        }
    }

    /// Copies shard run `id` and its rows; returns the run's new id.
    static func copy(run id: Int64, tables: [String: [String]], _ db: Database) throws -> Int64 {
        func columns(_ table: String, dropping: Set<String>) throws -> [String] {
            let here = Set(try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map { $0["name"] as String })
            return (tables[table] ?? []).filter { here.contains($0) && !dropping.contains($0) }
        }
        func list(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }
        let runColumns = try columns("runs", dropping: ["id"])
        try db.execute(sql: "INSERT INTO runs (\(list(runColumns))) SELECT \(list(runColumns)) FROM shard.runs WHERE id = ?", arguments: [id])
        let newID = db.lastInsertedRowID
        for table in runTables where tables[table] != nil {
            let rest = try columns(table, dropping: ["id", "run_id"])
            try db.execute(sql: "INSERT INTO \(table) (run_id, \(list(rest))) SELECT ?, \(list(rest)) FROM shard.\(table) WHERE run_id = ? ORDER BY rowid",
                           arguments: [newID, id])
        }
        if tables["sink_analyses"] != nil {
            let rest = try columns("sink_analyses", dropping: ["id", "run_id"])
            let headColumns = try columns("sink_heads", dropping: ["analysis_id"])
            for analysis in try Int64.fetchAll(db, sql: "SELECT id FROM shard.sink_analyses WHERE run_id = ? ORDER BY id", arguments: [id]) {
                try db.execute(sql: "INSERT INTO sink_analyses (run_id, \(list(rest))) SELECT ?, \(list(rest)) FROM shard.sink_analyses WHERE id = ?",
                               arguments: [newID, analysis])
                let newAnalysis = db.lastInsertedRowID
                try db.execute(sql: "INSERT INTO sink_heads (analysis_id, \(list(headColumns))) SELECT ?, \(list(headColumns)) FROM shard.sink_heads WHERE analysis_id = ?",
                               arguments: [newAnalysis, analysis])
            }
        }
        return newID
    }
}
