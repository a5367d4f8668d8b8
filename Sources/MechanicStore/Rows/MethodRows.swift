import Foundation
import GRDB
import MechanicCircuits

/// A row of `methods`: one scoring method's result in a run, and the rule that chose its circuit.
struct MethodRow: StoreRow {
    static let databaseTableName = "methods"
    var id: Int64?
    var runID: Int64
    var method: String
    var seconds: Double
    /// Rows the method has in `head_scores`: a reader can check a result is whole.
    var headCount: Int
    /// Whether the method had an edge list (possibly empty), as opposed to none.
    var hasEdges: Bool
    var circuitRule: String?
    var circuitK: Int?
    var circuitThreshold: Double?
    var recordedAt: Date
}

/// A row of `head_scores`: one head's score under one method.
struct HeadScoreRow: StoreRow {
    static let databaseTableName = "head_scores"
    var runID: Int64
    var method: String
    var ordinal: Int
    var layer: Int
    var head: Int
    var score: Double?
}

/// A row of `edge_scores`: one head pair's score under one method.
struct EdgeScoreRow: StoreRow {
    static let databaseTableName = "edge_scores"
    var runID: Int64
    var method: String
    var ordinal: Int
    var fromLayer: Int
    var fromHead: Int
    var toLayer: Int
    var toHead: Int
    var score: Double?
}

/// A row of `circuit_heads`: one head of a method's circuit.
struct CircuitHeadRow: StoreRow {
    static let databaseTableName = "circuit_heads"
    var runID: Int64
    var method: String
    var layer: Int
    var head: Int
}

/// A row of `evaluations`: a method's scores against the ground truth.
struct EvaluationRow: StoreRow {
    static let databaseTableName = "evaluations"
    var runID: Int64
    var method: String
    var auc: Double?
    var truePositives: Int?
    var falsePositives: Int?
    var falseNegatives: Int?
    var precision: Double?
    var recall: Double?
    var f1: Double?
    var faithfulnessFull: Double?
    var faithfulnessCircuit: Double?
    var faithfulnessComplement: Double?
    var faithfulnessRandomMean: Double?
    /// JSON array of the metric under each random head set; NaN written as `"nan"`.
    var faithfulnessRandom: String?
}

extension EvaluationRow {
    /// The evaluation columns of a method's result (precision, recall and F1 stored for readers).
    init(_ result: DiscoveryReport.MethodResult, run: Int64) throws {
        self.init(runID: run, method: result.scores.method, auc: result.auc?.storedValue,
                  truePositives: result.match?.truePositives, falsePositives: result.match?.falsePositives,
                  falseNegatives: result.match?.falseNegatives, precision: result.match?.precision,
                  recall: result.match?.recall, f1: result.match?.f1)
        if let faithfulness = result.faithfulness {
            faithfulnessFull = faithfulness.fullModel.storedValue
            faithfulnessCircuit = faithfulness.circuit.storedValue
            faithfulnessComplement = faithfulness.complement.storedValue
            faithfulnessRandomMean = faithfulness.randomMean.storedValue
            faithfulnessRandom = String(decoding: try ResultStore.jsonEncoder.encode(faithfulness.random), as: UTF8.self)
        }
    }

    /// Puts the stored evaluation back on a method's result.
    func apply(to result: inout DiscoveryReport.MethodResult) throws {
        result.auc = auc
        if let truePositives, let falsePositives, let falseNegatives {
            result.match = CircuitEvaluation.Match(truePositives: truePositives, falsePositives: falsePositives,
                                                   falseNegatives: falseNegatives)
        }
        if let faithfulnessRandom {
            let random = try ResultStore.jsonDecoder.decode([Float].self, from: Data(faithfulnessRandom.utf8))
            result.faithfulness = Faithfulness.Result(
                fullModel: Float(stored: faithfulnessFull), circuit: Float(stored: faithfulnessCircuit),
                complement: Float(stored: faithfulnessComplement), random: random)
        }
    }
}

/// A row of `label_controls`: an SAE method's label-permutation control.
struct LabelControlRow: StoreRow {
    static let databaseTableName = "label_controls"
    var runID: Int64
    var method: String
    var permutations: Int
    /// The UInt64 seed's Int64 bit pattern.
    var seed: Int64
    var shuffledAucMean: Double?
    var shuffledAucSd: Double?
    var withinNoise: Bool?
}

/// A row of `label_control_heads`: one head's score against its label-permutation null.
struct LabelControlHeadRow: StoreRow {
    static let databaseTableName = "label_control_heads"
    var runID: Int64
    var method: String
    var ordinal: Int
    var layer: Int
    var head: Int
    var observed: Double?
    var nullMean: Double?
    var nullSd: Double?
    var z: Double?
    var p: Double?
}
