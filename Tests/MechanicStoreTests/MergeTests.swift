import Foundation
import GRDB
import MechanicCircuits
import MechanicSAE
import MechanicSinks
@testable import MechanicStore
import XCTest

/// Shards merged into one store: whole runs with their provenance, each once, and nothing
/// written when a shard cannot be trusted.
final class MergeTests: XCTestCase {
    /// A shard on disk with one finished discover run (every part of the report), one finished
    /// sinks run with an SAE and a sink analysis, and one run still running.
    func makeShard(_ path: String) throws -> ResultStore {
        let store = try ResultStore(path: path)
        let discover = try store.beginRun(StoreFixtures.info)
        try store.record(report: StoreFixtures.report, run: discover)
        for result in EdgeGraphStoreTests.results() {
            try store.record(edgeMethod: result, graph: EdgeGraphStoreTests.graph, ablation: .counterfactual, prompts: 4, run: discover)
        }
        try store.finishRun(discover, status: .completed)
        let sinks = try store.beginRun(RunInfo(command: "sinks", seed: 3, version: "test"))
        try store.record(sae: SAEConfiguration(inputDimension: 8, hiddenUnits: 4), trainingPrompts: 10, run: sinks)
        _ = try store.record(sinks: SinkAnalysis(model: SinkModelSummary(layers: 1, heads: 2, dModel: 8, contextLength: 16, vocabSize: 10),
                                                 variants: [RoundTripTests.statistics(bos: true)], examples: []), run: sinks)
        try store.finishRun(sinks, status: .completed)
        _ = try store.beginRun(RunInfo(command: "discover", seed: 9, version: "test"))
        return store
    }

    func count(_ store: ResultStore, _ table: String) throws -> Int {
        guard case .integer(let n) = try store.query("SELECT count(*) FROM \(table)").rows[0][0] else { return -1 }
        return Int(n)
    }

    func testShardsMergeWholeRunsOnceWithTheirProvenance() throws {
        let folder = try StoreFixtures.folder(self)
        let shardPath = folder.appendingPathComponent("shard.sqlite").path
        let shard = try makeShard(shardPath)
        let target = try ResultStore(path: folder.appendingPathComponent("merged.sqlite").path)
        // A run of the target's own stays.
        let own = try target.beginRun(RunInfo(command: "card", version: "test"))
        try target.finishRun(own, status: .completed)

        let first = try target.merge(shard: shardPath)
        XCTAssertEqual(first.runs, 2)
        XCTAssertEqual(first.merged.count, 2)
        XCTAssertEqual(first.duplicates, 0)
        XCTAssertEqual(first.unfinished, 1, "a running run may be partial and is not copied")
        // The discover run reads back as it was recorded, under its new id, with its provenance.
        XCTAssertEqual(try target.report(run: first.merged[0]), StoreFixtures.report)
        XCTAssertEqual(try target.edgeReport(run: first.merged[0])?.methods.map(\.method), ["eap", "edge-patching"])
        XCTAssertEqual(try count(target, "graph_edge_scores"), 2 * EdgeGraphStoreTests.graph.edges.count)
        XCTAssertEqual(try count(target, "faithfulness_points"), 3)
        let original = try XCTUnwrap(try shard.runs().first { $0.info.command == "discover" && $0.status == .completed })
        let copied = try XCTUnwrap(try target.run(first.merged[0]))
        XCTAssertEqual(copied.info, original.info)
        XCTAssertEqual(copied.host, original.host)
        XCTAssertEqual(copied.pid, original.pid)
        XCTAssertEqual(copied.startedAt, original.startedAt)
        XCTAssertEqual(try count(target, "saes"), 1)
        XCTAssertEqual(try count(target, "sink_analyses"), 1)
        XCTAssertEqual(try count(target, "sink_heads"), try count(shard, "sink_heads"))
        XCTAssertEqual(try count(target, "label_control_heads"), try count(shard, "label_control_heads"))

        // The same shard again, and a copy of it: nothing new.
        let copyPath = folder.appendingPathComponent("copy.sqlite").path
        try DatabaseQueue(path: shardPath).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(atPath: shardPath, toPath: copyPath)
        for path in [shardPath, copyPath] {
            let again = try target.merge(shard: path)
            XCTAssertEqual(again.merged, [])
            XCTAssertEqual(again.duplicates, 2)
        }
        XCTAssertEqual(try target.runs().count, 3)

        // A shard that overlaps: the old runs are skipped, the new one comes in.
        let newer = try shard.beginRun(RunInfo(command: "sinks", seed: 4, version: "test"))
        try shard.finishRun(newer, status: .failed, message: "stopped")
        let overlap = try target.merge(shard: shardPath)
        XCTAssertEqual(overlap.merged.count, 1)
        XCTAssertEqual(overlap.duplicates, 2)
        XCTAssertEqual(try target.run(overlap.merged[0])?.status, .failed)
        XCTAssertEqual(try target.runs().count, 4)
    }

    func testUntrustworthyShardsAreRefusedWithoutTouchingTheTarget() throws {
        let folder = try StoreFixtures.folder(self)
        let targetPath = folder.appendingPathComponent("merged.sqlite").path
        let target = try ResultStore(path: targetPath)
        let own = try target.beginRun(RunInfo(command: "card", version: "test"))
        try target.finishRun(own, status: .completed)
        let before = try target.query("SELECT * FROM runs")

        // From a newer Mechanic.
        let newerPath = folder.appendingPathComponent("newer.sqlite").path
        _ = try makeShard(newerPath)
        try ResultStore(path: newerPath).write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9-future')") }
        XCTAssertEqual(StoreFixtures.storeError { _ = try target.merge(shard: newerPath) },
                       .schemaTooNew(path: newerPath, unknownMigrations: ["v9-future"]))
        // Not a database, a database of another program, a missing file.
        let garbage = folder.appendingPathComponent("garbage.sqlite").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: garbage))
        XCTAssertNotNil(StoreFixtures.storeError { _ = try target.merge(shard: garbage) })
        let other = folder.appendingPathComponent("other.sqlite").path
        try DatabaseQueue(path: other).write { db in try db.execute(sql: "CREATE TABLE notes (text TEXT)") }
        XCTAssertEqual(StoreFixtures.storeError { _ = try target.merge(shard: other) }, .notMechanicDatabase(path: other))
        XCTAssertEqual(StoreFixtures.storeError { _ = try target.merge(shard: folder.appendingPathComponent("none").path) },
                       .notFound(path: folder.appendingPathComponent("none").path))
        // A shard whose pages are damaged past its header.
        let corruptPath = folder.appendingPathComponent("corrupt.sqlite").path
        do { _ = try makeShard(corruptPath) }                              // closed: its WAL is folded into the file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: corruptPath))
        for i in stride(from: 4096 + 200, to: min(bytes.count, 4096 * 6), by: 7) { bytes[i] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: corruptPath))
        XCTAssertNotNil(StoreFixtures.storeError { _ = try target.merge(shard: corruptPath) })

        XCTAssertEqual(try target.query("SELECT * FROM runs"), before, "the target is as it was")
        XCTAssertEqual(try count(target, "methods"), 0)
    }
}
