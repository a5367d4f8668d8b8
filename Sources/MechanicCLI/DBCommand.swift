import ArgumentParser
import Foundation
import Mechanic

/// `mechanic db`: read the results store: runs, one run's results, or any read-only SQL.
struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Read the results database (list runs, show one, run read-only SQL) and merge shards into it.",
        discussion: """
        runs, show and query open the database read-only, so they work while a run is writing. The \
        schema (runs, tasks, prompts, ground_truth, methods, head_scores, edge_scores, circuit_heads, \
        evaluations, label_controls, label_control_heads, saes, sink_analyses, sink_heads) is \
        described in the README. merge copies the finished runs of other stores (shards written on \
        other machines) into one.

        Examples:
          mechanic db runs
          mechanic db show 3 --json
          mechanic db query "SELECT method, auc FROM evaluations WHERE run_id = 3 ORDER BY auc DESC"
          mechanic db query --csv "SELECT layer, head, score FROM head_scores WHERE run_id = 3 AND method = 'sae'"
          mechanic db merge shards/*.sqlite --into mechanic.sqlite
        """,
        subcommands: [Runs.self, Show.self, Query.self, Merge.self]
    )

    /// `--db` for the read-only subcommands.
    struct Location: ParsableArguments {
        @Option(help: ArgumentHelp("Results database (default: $MECHANIC_DB, else mechanic.sqlite).", valueName: "file"))
        var db: String?

        func open() throws -> ResultStore { try ResultStore(path: StoreOptions.resolve(db), readOnly: true) }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the finished runs of shard stores into one store.",
            discussion: """
            Each finished run is copied with everything recorded for it (task, prompts, scores, \
            evaluations, label controls, SAEs, sink analyses), one transaction per run, under a new \
            run id and with its provenance (command, arguments, seed, model checksum, host, process, \
            times). A run already in the target (the same provenance) is skipped, so merging twice \
            changes nothing. Runs still running in a shard are left out. Shards are only read; one \
            that is corrupt, not a Mechanic store, or from a newer Mechanic is refused before \
            anything is written.

            Examples:
              mechanic db merge node1.sqlite node2.sqlite --into mechanic.sqlite
              mechanic db merge shards/*.sqlite --into all.sqlite --json
            """)
        @Argument(help: ArgumentHelp("Shard stores to merge.", valueName: "shard")) var shards: [String]
        @Option(help: ArgumentHelp("The store to merge into (created when missing).", valueName: "file")) var into: String
        @Flag(help: "Print JSON (one summary per shard).") var json = false

        func validate() throws {
            if shards.isEmpty { throw ValidationError("Give at least one shard store to merge.") }
            let target = URL(fileURLWithPath: (into as NSString).expandingTildeInPath).standardizedFileURL.path
            if let same = shards.first(where: { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).standardizedFileURL.path == target }) {
                throw ValidationError("\(same) is the target itself; merge other stores into it.")
            }
        }

        func run() throws {
            let store = try ResultStore(path: (into as NSString).expandingTildeInPath)
            var summaries: [ResultStore.MergeSummary] = []
            for shard in shards {
                let summary = try store.merge(shard: (shard as NSString).expandingTildeInPath)
                summaries.append(summary)
                if !json {
                    print("\(shard): \(summary.merged.count) of \(summary.runs) finished runs merged, \(summary.duplicates) already there"
                          + (summary.unfinished > 0 ? ", \(summary.unfinished) still running left out" : ""))
                }
            }
            if json { try printJSON(summaries) }
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the runs, newest first.",
            discussion: "Examples:\n  mechanic db runs\n  mechanic db runs --limit 5 --json --db results/mechanic.sqlite")
        @OptionGroup var location: Location
        @Option(help: "Runs to list.") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try location.open()
            var result = try store.query("""
                SELECT r.id, r.status, r.command, t.name AS task, r.model_path, r.started_at, r.finished_at,
                       (SELECT count(*) FROM methods m WHERE m.run_id = r.id) AS methods
                FROM runs r LEFT JOIN tasks t ON t.run_id = r.id ORDER BY r.id DESC LIMIT \(max(0, limit))
                """)
            // A run whose process is gone reads as interrupted, as the next writer will record it.
            let stale = try store.staleRuns()
            for i in result.rows.indices {
                if case .integer(let id) = result.rows[i][0], stale.contains(id) { result.rows[i][1] = .text("interrupted") }
            }
            if json { return try printJSON(result) }
            if result.rows.isEmpty { return print("no runs in \(store.path)") }
            printTable(result)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one run: what ran, on what, and each method's results.",
            discussion: "Examples:\n  mechanic db show 3\n  mechanic db show 3 --json | jq '.report.methods[].auc'")
        @Argument(help: "Run id.") var id: Int64
        @OptionGroup var location: Location
        @Flag(help: "Print JSON.") var json = false

        struct Shown: Codable {
            var run: RunRecord
            var report: DiscoveryReport?
        }

        func run() throws {
            let store = try location.open()
            guard let record = try store.run(id) else {
                throw CLIError("no run \(id) in \(store.path); `mechanic db runs` lists the runs")
            }
            let report: DiscoveryReport? = record.info.command == "discover" ? try? store.report(run: id) : nil
            let stale = try store.staleRuns().contains(record.id)
            if json {
                var shown = record
                if stale {
                    shown.status = .interrupted
                    shown.message = "recorded as running; its process \(record.pid) is gone"
                }
                return try printJSON(Shown(run: shown, report: report))
            }
            print("run \(record.id): \(record.info.command) \(record.info.arguments.joined(separator: " "))")
            if stale {
                print("status: interrupted (recorded as running; its process \(record.pid) is gone)")
            } else {
                print("status: \(record.status.rawValue)\(record.message.map { " (\($0))" } ?? "")")
            }
            print("model: \(record.info.modelPath ?? "-") \(record.info.modelChecksum ?? "")")
            print("seed: \(record.info.seed.map(String.init) ?? "-"); Mechanic \(record.info.version); pid \(record.pid) on \(record.host)")
            let formatter = ISO8601DateFormatter()
            print("started \(formatter.string(from: record.startedAt))\(record.finishedAt.map { ", finished \(formatter.string(from: $0))" } ?? "")")
            if let report {
                print("task: \(report.task) (\(report.metric.rawValue)), \(report.positives) positives, \(report.negatives) negatives")
                if let truth = report.groundTruth { print("ground truth: \(truth.map(\.description).joined(separator: " "))") }
                print("")
                DiscoverCommand.printMethods(report)
            }
            let others = try store.query("""
                SELECT (SELECT count(*) FROM saes WHERE run_id = \(id)) AS saes,
                       (SELECT count(*) FROM sink_analyses WHERE run_id = \(id)) AS sink_analyses
                """)
            if let row = others.rows.first, row.map(\.description) != ["0", "0"] {
                print("\nalso recorded: \(row[0]) SAE(s), \(row[1]) sink analysis(es)")
            }
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one read-only SQL statement and print its rows.",
            discussion: """
            Statements that would change the database are refused.

            Examples:
              mechanic db query "SELECT method, auc, seconds FROM evaluations JOIN methods USING (run_id, method) WHERE run_id = 3"
              mechanic db query --csv "SELECT layer, head, score FROM head_scores WHERE run_id = 3 AND method = 'sae'" > sae.csv
            """)
        @Argument(help: "The SQL statement.") var sql: String
        @OptionGroup var location: Location
        @Flag(help: "Print JSON (columns and rows).") var json = false
        @Flag(help: "Print CSV.") var csv = false

        func validate() throws {
            if json && csv { throw ValidationError("give --json or --csv, not both.") }
        }

        func run() throws {
            let result = try location.open().query(sql)
            if json { return try printJSON(result) }
            if csv {
                func field(_ text: String) -> String {
                    text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                        ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
                }
                print(result.columns.map(field).joined(separator: ","))
                for row in result.rows { print(row.map { $0 == .null ? "" : field($0.description) }.joined(separator: ",")) }
                return
            }
            printTable(result)
        }
    }
}

/// Prints a query result as an aligned text table.
func printTable(_ result: QueryResult) {
    let cells = [result.columns] + result.rows.map { $0.map(\.description) }
    let widths = result.columns.indices.map { c in min(48, cells.map { $0[c].count }.max() ?? 0) }
    for (i, row) in cells.enumerated() {
        let line = row.indices.map { c -> String in
            let text = row[c].count > widths[c] ? String(row[c].prefix(widths[c] - 1)) + "…" : row[c]
            return text.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
        print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        if i == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
    }
    print("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
}
