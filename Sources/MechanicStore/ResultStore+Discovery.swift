import Foundation
import GRDB
import MechanicCircuits
import MechanicTasks

/// Which heads of a method's scores make its circuit.
public enum CircuitRule: Codable, Equatable, Sendable {
    /// The `k` best-scoring heads (ties broken by head order), as discovery evaluates them.
    case topK(Int)
    /// The heads scoring at least the threshold.
    case threshold(Float)
}

extension ResultStore {
    /// Records a run's task: its summary, every prompt, and the ground-truth circuit if known, in
    /// one transaction. Recording a task again replaces the run's earlier one.
    ///
    /// - Parameters:
    ///   - groundTruth: the circuit the methods are scored against; its size is the default circuit size.
    ///   - tokenText: the text of a token id, to store answers as text too (e.g. a tokenizer's decoder).
    public func record(task: TaskDataset, groundTruth: [HeadID]? = nil, tokenText: ((Int) -> String)? = nil,
                       run: Int64) throws(StoreError) {
        try write { db in
            _ = try Self.runningRun(run, db)
            let row = TaskRow(runID: run, name: task.task, metric: task.metric.rawValue, positives: task.positives.count,
                              negatives: task.negatives.count, droppedPositives: task.droppedPositives,
                              hasGroundTruth: groundTruth != nil)
            _ = try TaskRow.deleteOne(db, key: run)
            try row.insert(db)
            for (kind, prompts) in [(PromptRow.Kind.positive, task.positives), (.negative, task.negatives)] {
                for (ordinal, prompt) in prompts.enumerated() {
                    try PromptRow(runID: run, kind: kind, ordinal: ordinal, text: prompt.text, tokens: prompt.tokens,
                                  answers: prompt.answers, wrongAnswers: prompt.wrongAnswers,
                                  answerTexts: tokenText.map { prompt.answers.map($0) },
                                  wrongAnswerTexts: tokenText.map { prompt.wrongAnswers.map($0) },
                                  corruptedText: prompt.corruptedText, corruptedTokens: prompt.corruptedTokens).insert(db)
                }
            }
            try Self.insertGroundTruth(groundTruth ?? [], run: run, db)
        }
    }

    /// Records one method's result in one transaction: its head scores (with runtime), edges,
    /// circuit, and evaluation. Recording a method again replaces its earlier result in the run.
    ///
    /// - Parameter circuit: which heads make the circuit; by default the top |ground truth| heads
    ///   when the run's task has a ground truth (as discovery evaluates them), else no circuit.
    public func record(method result: DiscoveryReport.MethodResult, run: Int64, circuit: CircuitRule? = nil) throws(StoreError) {
        try write { db in
            _ = try Self.runningRun(run, db)
            try Self.insert(method: result, run: run, circuit: circuit, db)
        }
    }

    /// Records a whole discovery report in one transaction: the task summary (prompts recorded by
    /// ``record(task:groundTruth:tokenText:run:)`` are kept), the ground truth and every method.
    public func record(report: DiscoveryReport, run: Int64) throws(StoreError) {
        try write { db in
            _ = try Self.runningRun(run, db)
            let row = TaskRow(runID: run, name: report.task, metric: report.metric.rawValue, positives: report.positives,
                              negatives: report.negatives, droppedPositives: report.droppedPositives,
                              hasGroundTruth: report.groundTruth != nil)
            try row.upsert(db)
            try Self.insertGroundTruth(report.groundTruth ?? [], run: run, db)
            for method in report.methods { try Self.insert(method: method, run: run, circuit: nil, db) }
        }
    }

    /// The methods a run has complete results for, in the order they were recorded: a resumed
    /// run skips them. Names are `HeadScores.method` (`patching-resample`, `acdc-kl`…).
    public func completedMethods(run: Int64) throws(StoreError) -> [String] {
        try read { db in try Self.completedMethods(run: run, db) }
    }

    /// Rebuilds the discovery report of a run from its rows, methods in recording order.
    ///
    /// - Throws: ``StoreError/noSuchRun(_:)``, or ``StoreError/noTask(run:)`` if no task was recorded.
    public func report(run: Int64) throws(StoreError) -> DiscoveryReport {
        try read { db in
            guard try RunRecord.exists(db, key: run) else { throw StoreError.noSuchRun(run) }
            guard let task = try TaskRow.fetchOne(db, key: run) else { throw StoreError.noTask(run: run) }
            guard let metric = TaskMetric(rawValue: task.metric) else {
                throw StoreError.invalidData(path: "run \(run)", detail: "unknown task metric \"\(task.metric)\"")
            }
            let truth = try GroundTruthRow.filter(Column("run_id") == run).order(Column("layer"), Column("head")).fetchAll(db)
            let methods = try MethodRow.filter(Column("run_id") == run).order(Column("id")).fetchAll(db)
            return DiscoveryReport(
                task: task.name, metric: metric, positives: task.positives, negatives: task.negatives,
                droppedPositives: task.droppedPositives,
                groundTruth: task.hasGroundTruth ? truth.map { HeadID(layer: $0.layer, head: $0.head) } : nil,
                methods: try methods.map { try Self.methodResult($0, db) })
        }
    }

    // MARK: - Rows

    static func completedMethods(run: Int64, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT method FROM methods WHERE run_id = ? ORDER BY id", arguments: [run])
    }

    static func insertGroundTruth(_ heads: [HeadID], run: Int64, _ db: Database) throws {
        _ = try GroundTruthRow.filter(Column("run_id") == run).deleteAll(db)
        for head in Set(heads) { try GroundTruthRow(runID: run, layer: head.layer, head: head.head).insert(db) }
    }

    /// Writes one method's rows, replacing any earlier result of the same method in the run.
    static func insert(method result: DiscoveryReport.MethodResult, run: Int64, circuit: CircuitRule?, _ db: Database) throws {
        let scores = result.scores, name = scores.method
        _ = try MethodRow.filter(Column("run_id") == run && Column("method") == name).deleteAll(db)
        let rule: CircuitRule?
        if let circuit {
            rule = circuit
        } else {
            let task = try TaskRow.fetchOne(db, key: run)
            let truth = try GroundTruthRow.filter(Column("run_id") == run).fetchCount(db)
            rule = task?.hasGroundTruth == true ? .topK(truth) : nil
        }
        var row = MethodRow(runID: run, method: name, seconds: scores.seconds, headCount: scores.heads.count,
                            hasEdges: scores.edges != nil, recordedAt: Date())
        switch rule {
        case .topK(let k): row.circuitRule = "top-k"; row.circuitK = k
        case .threshold(let t): row.circuitRule = "threshold"; row.circuitThreshold = Double(t)
        case nil: break
        }
        try row.insert(db)
        for (i, head) in scores.heads.enumerated() {
            try HeadScoreRow(runID: run, method: name, ordinal: i, layer: head.layer, head: head.head,
                             score: scores.scores[i].storedValue).insert(db)
        }
        for (i, edge) in (scores.edges ?? []).enumerated() {
            try EdgeScoreRow(runID: run, method: name, ordinal: i, fromLayer: edge.from.layer, fromHead: edge.from.head,
                             toLayer: edge.to.layer, toHead: edge.to.head, score: edge.score.storedValue).insert(db)
        }
        let members: [HeadID]
        switch rule {
        case .topK(let k): members = CircuitEvaluation.topHeads(scores: scores.scores, heads: scores.heads, k: k)
        case .threshold(let t): members = CircuitEvaluation.heads(scores: scores.scores, heads: scores.heads, threshold: t).sorted()
        case nil: members = []
        }
        for head in members { try CircuitHeadRow(runID: run, method: name, layer: head.layer, head: head.head).insert(db) }
        if result.auc != nil || result.match != nil || result.faithfulness != nil {
            try EvaluationRow(result, run: run).insert(db)
        }
        if let control = result.control {
            try LabelControlRow(runID: run, method: name, permutations: control.permutations, seed: Int64(bitPattern: control.seed),
                                shuffledAucMean: control.shuffledAUC?.mean, shuffledAucSd: control.shuffledAUC?.sd,
                                withinNoise: control.shuffledAUC?.withinNoise).insert(db)
            for (i, (head, s)) in zip(scores.heads, control.heads).enumerated() {
                try LabelControlHeadRow(runID: run, method: name, ordinal: i, layer: head.layer, head: head.head,
                                        observed: s.observed.storedValue, nullMean: s.nullMean.storedValue, nullSd: s.nullSD.storedValue,
                                        z: s.z.storedValue, p: s.p.storedValue).insert(db)
            }
        }
    }

    /// One method's result, as it was recorded.
    static func methodResult(_ row: MethodRow, _ db: Database) throws -> DiscoveryReport.MethodResult {
        let key = Column("run_id") == row.runID && Column("method") == row.method
        let heads = try HeadScoreRow.filter(key).order(Column("ordinal")).fetchAll(db)
        let edges = row.hasEdges ? try EdgeScoreRow.filter(key).order(Column("ordinal")).fetchAll(db) : nil
        let scores = HeadScores(
            method: row.method, heads: heads.map { HeadID(layer: $0.layer, head: $0.head) },
            scores: heads.map { Float(stored: $0.score) },
            edges: edges?.map {
                EdgeScore(from: HeadID(layer: $0.fromLayer, head: $0.fromHead), to: HeadID(layer: $0.toLayer, head: $0.toHead),
                          score: Float(stored: $0.score))
            },
            seconds: row.seconds)
        var result = DiscoveryReport.MethodResult(scores: scores)
        if let evaluation = try EvaluationRow.filter(key).fetchOne(db) { try evaluation.apply(to: &result) }
        if let control = try LabelControlRow.filter(key).fetchOne(db) {
            let rows = try LabelControlHeadRow.filter(key).order(Column("ordinal")).fetchAll(db)
            var restored = LabelPermutation.HeadControl(
                permutations: control.permutations, seed: UInt64(bitPattern: control.seed),
                heads: rows.map {
                    LabelPermutation.Statistic(observed: Float(stored: $0.observed), nullMean: Float(stored: $0.nullMean),
                                               nullSD: Float(stored: $0.nullSd), z: Float(stored: $0.z), p: Float(stored: $0.p))
                })
            if let mean = control.shuffledAucMean, let sd = control.shuffledAucSd, let within = control.withinNoise {
                restored.shuffledAUC = LabelPermutation.ShuffledAUC(mean: mean, sd: sd, withinNoise: within)
            }
            result.control = restored
        }
        return result
    }
}
