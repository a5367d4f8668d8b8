import Foundation

/// A row of `edge_methods`: one edge-level method of a run.
struct EdgeMethodRow: StoreRow {
    static let databaseTableName = "edge_methods"
    var runID: Int64
    var method: String
    var ablation: String
    var prompts: Int
    var seconds: Double
    var edgeCount: Int
    /// The graph's shape as JSON (`ComputationalGraph`'s coding).
    var graph: String
    var nodeAuc: Double?
    var recordedAt: Date
}

/// A row of `graph_edge_scores`: one edge's score.
struct GraphEdgeScoreRow: StoreRow {
    static let databaseTableName = "graph_edge_scores"
    var runID: Int64
    var method: String
    var ordinal: Int
    var edge: String
    var score: Double?
}

/// A row of `faithfulness_curves`: a method's curve summary under one ablation.
struct FaithfulnessCurveRow: StoreRow {
    static let databaseTableName = "faithfulness_curves"
    var runID: Int64
    var method: String
    var ablation: String
    var fullModel: Double?
    var emptyCircuit: Double?
    var cpr: Double?
    var cmd: Double?
    var recordedAt: Date
}

/// A row of `faithfulness_points`: one circuit size of a curve.
struct FaithfulnessPointRow: StoreRow {
    static let databaseTableName = "faithfulness_points"
    var runID: Int64
    var method: String
    var ablation: String
    var ordinal: Int
    var fraction: Double
    var edges: Int
    var faithfulness: Double?
}
