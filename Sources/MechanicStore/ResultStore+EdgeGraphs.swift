import Foundation
import GRDB
import MechanicCircuits
import MechanicTasks

extension ResultStore {
    /// Records one edge-level method's result in one transaction: its edge scores (with MIB names),
    /// runtime, head-level AUC and faithfulness curve. Recording a method again replaces it.
    public func record(edgeMethod result: EdgeDiscoveryReport.MethodResult, graph: ComputationalGraph, ablation: EdgeAblation,
                       prompts: Int, run: Int64) throws(StoreError) {
        guard result.scores.count == graph.edges.count else {
            throw StoreError.invalidData(path: path, detail: "\(result.method) has \(result.scores.count) edge scores for a graph of \(graph.edges.count) edges")
        }
        try write { db in
            _ = try Self.runningRun(run, db)
            let key = Column("run_id") == run && Column("method") == result.method
            _ = try EdgeMethodRow.filter(key).deleteAll(db)
            let shape = String(decoding: try JSONEncoder().encode(graph), as: UTF8.self)
            try EdgeMethodRow(runID: run, method: result.method, ablation: ablation.rawValue, prompts: prompts, seconds: result.seconds,
                              edgeCount: graph.edges.count, graph: shape, nodeAuc: result.nodeAUC?.storedValue,
                              recordedAt: Date()).insert(db)
            for (i, edge) in graph.edges.enumerated() {
                try GraphEdgeScoreRow(runID: run, method: result.method, ordinal: i, edge: graph.name(of: edge),
                                      score: result.scores[i].storedValue).insert(db)
            }
            if let curve = result.curve {
                try FaithfulnessCurveRow(runID: run, method: result.method, ablation: ablation.rawValue,
                                         fullModel: curve.fullModel.storedValue, emptyCircuit: curve.emptyCircuit.storedValue,
                                         cpr: curve.cpr().storedValue, cmd: curve.cmd().storedValue, recordedAt: Date()).insert(db)
                for (i, fraction) in curve.fractions.enumerated() {
                    try FaithfulnessPointRow(runID: run, method: result.method, ablation: ablation.rawValue, ordinal: i, fraction: fraction,
                                             edges: curve.edgeCounts[i], faithfulness: curve.faithfulness[i].storedValue).insert(db)
                }
            }
        }
    }

    /// The edge-level report of a run, rebuilt from its rows (methods in recording order), or `nil`
    /// when the run has no edge-level method.
    ///
    /// - Throws: ``StoreError/noSuchRun(_:)``, or ``StoreError/invalidData(path:detail:)`` for rows
    ///   that do not fit together.
    public func edgeReport(run: Int64) throws(StoreError) -> EdgeDiscoveryReport? {
        try read { db in
            guard try RunRecord.exists(db, key: run) else { throw StoreError.noSuchRun(run) }
            let methods = try EdgeMethodRow.filter(Column("run_id") == run).order(Column("recorded_at"), Column("rowid")).fetchAll(db)
            guard let first = methods.first else { return nil }
            let bad = { (detail: String) in StoreError.invalidData(path: self.path, detail: "run \(run): \(detail)") }
            guard let graph = try? JSONDecoder().decode(ComputationalGraph.self, from: Data(first.graph.utf8)) else {
                throw bad("unreadable graph shape \(first.graph)")
            }
            guard let ablation = EdgeAblation(rawValue: first.ablation) else { throw bad("unknown ablation \(first.ablation)") }
            let task = try TaskRow.fetchOne(db, key: run)
            let truth = try GroundTruthRow.filter(Column("run_id") == run).order(Column("layer"), Column("head")).fetchAll(db)
            var results: [EdgeDiscoveryReport.MethodResult] = []
            for row in methods {
                let key = Column("run_id") == run && Column("method") == row.method
                let scores = try GraphEdgeScoreRow.filter(key).order(Column("ordinal")).fetchAll(db)
                guard scores.count == graph.edges.count else { throw bad("\(row.method) has \(scores.count) of \(graph.edges.count) edge scores") }
                var result = EdgeDiscoveryReport.MethodResult(method: row.method, scores: scores.map { Float(stored: $0.score) },
                                                              seconds: row.seconds, nodeAUC: row.nodeAuc)
                if let curve = try FaithfulnessCurveRow.filter(key && Column("ablation") == row.ablation).fetchOne(db) {
                    let points = try FaithfulnessPointRow.filter(key && Column("ablation") == row.ablation).order(Column("ordinal")).fetchAll(db)
                    var restored = FaithfulnessCurve(fractions: points.map(\.fraction), edgeCounts: points.map(\.edges),
                                                     metrics: points.map { _ in 0 }, fullModel: curve.fullModel ?? .nan,
                                                     emptyCircuit: curve.emptyCircuit ?? .nan)
                    restored.faithfulness = points.map { $0.faithfulness ?? .nan }
                    result.curve = restored
                }
                results.append(result)
            }
            return EdgeDiscoveryReport(task: task?.name ?? "?", metric: task.flatMap { TaskMetric(rawValue: $0.metric) } ?? .logitDifference,
                                       prompts: first.prompts, ablation: ablation, graph: graph,
                                       groundTruth: truth.isEmpty ? nil : truth.map { HeadID(layer: $0.layer, head: $0.head) },
                                       methods: results)
        }
    }

    /// The positive prompts recorded with a run's task, in order (the edge methods used the first
    /// `EdgeDiscoveryReport.prompts` of them).
    public func positivePrompts(run: Int64) throws(StoreError) -> [TaskPrompt] {
        try read { db in
            guard try RunRecord.exists(db, key: run) else { throw StoreError.noSuchRun(run) }
            return try PromptRow.filter(Column("run_id") == run && Column("kind") == PromptRow.Kind.positive.rawValue)
                .order(Column("ordinal")).fetchAll(db)
                .map { TaskPrompt(text: $0.text, tokens: $0.tokens, answers: $0.answers, wrongAnswers: $0.wrongAnswers,
                                  corruptedText: $0.corruptedText, corruptedTokens: $0.corruptedTokens) }
        }
    }
}
