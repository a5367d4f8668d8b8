import Foundation
import GRDB
@testable import MechanicStore
import XCTest

/// The schema's migrations: applied to new, partly migrated and reopened databases; refused when
/// the database is newer than this code or was written by another program.
final class MigrationTests: XCTestCase {
    static let tables = ["circuit_heads", "edge_methods", "edge_scores", "evaluations", "faithfulness_curves", "faithfulness_points",
                         "graph_edge_scores", "ground_truth", "head_scores", "label_control_heads", "label_controls", "methods",
                         "prompts", "runs", "saes", "sink_analyses", "sink_heads", "tasks"]

    func testAppendOnlyMigrationNamesAreFrozen() {
        // Released migrations are never renamed or reordered; new ones go at the end.
        XCTAssertEqual(Schema.migrator.migrations, ["v1-runs", "v1-tasks", "v1-methods", "v1-sae", "v1-sinks", "v2-label-controls", "v3-edge-graphs"])
    }

    func testEmptyDatabaseGetsEveryTableInWALMode() throws {
        let path = try StoreFixtures.databasePath(self)
        let store = try ResultStore(path: path)
        let tables = try store.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                     + "AND name != 'grdb_migrations' ORDER BY name").rows.map { $0[0].description }
        XCTAssertEqual(tables, Self.tables)
        XCTAssertEqual(try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }, "wal")
        XCTAssertEqual(try store.query("SELECT identifier FROM grdb_migrations ORDER BY rowid").rows.map { $0[0].description },
                       Schema.migrator.migrations)
        XCTAssertEqual(try store.query("SELECT name FROM sqlite_master WHERE type = 'view'").rows, [[.text("circuit_edges")]])
    }

    func testReopeningKeepsDataAndAppliesNothingTwice() throws {
        let path = try StoreFixtures.databasePath(self)
        let id: Int64
        do {
            let store = try ResultStore(path: path)
            id = try store.beginRun(StoreFixtures.info)
            try store.record(report: StoreFixtures.report, run: id)
        }
        let store = try ResultStore(path: path)
        XCTAssertEqual(try store.report(run: id), StoreFixtures.report)
        XCTAssertEqual(try store.query("SELECT count(*) FROM grdb_migrations").rows, [[.integer(Int64(Schema.migrator.migrations.count))]])
    }

    func testFirstMigrationOnlyDatabaseIsMigratedToTheEnd() throws {
        let path = try StoreFixtures.databasePath(self)
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v1-runs")
            try queue.write { db in
                try RunRecord(id: 0, info: StoreFixtures.info, pid: 1, host: "old", startedAt: Date(), finishedAt: Date(),
                              status: .completed).insert(db)
                XCTAssertFalse(try db.tableExists("methods"))
            }
        }
        // A read-only open cannot migrate, and says so.
        guard case .schemaTooOld(_, let missing) = StoreFixtures.storeError({ _ = try ResultStore(path: path, readOnly: true) })
        else { return XCTFail("expected schemaTooOld") }
        XCTAssertEqual(missing, ["v1-tasks", "v1-methods", "v1-sae", "v1-sinks", "v2-label-controls", "v3-edge-graphs"])

        let store = try ResultStore(path: path)
        let old = try XCTUnwrap(try store.runs().first)
        XCTAssertEqual(old.info, StoreFixtures.info)
        XCTAssertEqual(old.host, "old")
        XCTAssertEqual(try store.resumeRun(old.id), [])
        try store.record(report: StoreFixtures.report, run: old.id)
        XCTAssertEqual(try store.report(run: old.id), StoreFixtures.report)
    }

    func testSchemaNewerThanThisMechanicIsRefused() throws {
        let path = try StoreFixtures.databasePath(self)
        do {
            let store = try ResultStore(path: path)
            try store.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v2-future')") }
        }
        for readOnly in [false, true] {
            let error = StoreFixtures.storeError { _ = try ResultStore(path: path, readOnly: readOnly) }
            XCTAssertEqual(error, .schemaTooNew(path: path, unknownMigrations: ["v2-future"]))
            XCTAssertTrue(error?.description.contains("newer Mechanic") == true, error?.description ?? "")
        }
    }

    func testDatabaseOfAnotherProgramIsLeftAlone() throws {
        let path = try StoreFixtures.databasePath(self)
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "CREATE TABLE notes (body TEXT)") }
        }
        XCTAssertEqual(StoreFixtures.storeError { _ = try ResultStore(path: path) }, .notMechanicDatabase(path: path))
        let queue = try DatabaseQueue(path: path)
        XCTAssertFalse(try queue.read { try $0.tableExists("runs") })
    }

    func testConstraintsAreInTheSchema() throws {
        let store = try ResultStore.inMemory()
        let run = try store.beginRun(StoreFixtures.info)
        // CHECK on status, and finished_at set exactly when the run is over.
        XCTAssertThrowsError(try store.write { db in try db.execute(sql: "UPDATE runs SET status = 'paused'") })
        XCTAssertThrowsError(try store.write { db in try db.execute(sql: "UPDATE runs SET status = 'completed'") })
        // A head score must belong to a recorded method (foreign key).
        XCTAssertThrowsError(try store.write { db in
            try db.execute(sql: "INSERT INTO head_scores VALUES (?, 'nope', 0, 0, 0, 1.0)", arguments: [run])
        })
        // One score per (run, method, layer, head): a method listing a head twice is refused whole.
        var duplicated = StoreFixtures.report.methods[0]
        duplicated.scores.heads[1] = duplicated.scores.heads[0]
        guard case .sqlite = StoreFixtures.storeError({ try store.record(method: duplicated, run: run) }) else {
            return XCTFail("expected a constraint failure")
        }
        XCTAssertEqual(try store.completedMethods(run: run), [])
        XCTAssertEqual(try store.query("SELECT count(*) FROM head_scores").rows, [[.integer(0)]])
    }
}
