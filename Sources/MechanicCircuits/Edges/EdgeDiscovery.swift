import Dispatch
import MechanicModel
import MechanicTasks

/// One edge-level discovery run: every chosen edge method's scores on a task, the head scores
/// that follow from them (ROC AUC against a head-level ground truth), and each method's MIB
/// faithfulness curve. What `mechanic discover --level edges` prints and stores.
public struct EdgeDiscoveryReport: Codable, Equatable, Sendable {
    public struct MethodResult: Codable, Equatable, Sendable {
        public var method: String
        /// One score per edge of the report's graph, in `graph.edges` order (NaN never chosen).
        public var scores: [Float]
        public var seconds: Double
        /// ROC AUC of the edge-derived head scores (``ScoredGraph/nodeScores()``) against the ground truth.
        public var nodeAUC: Double?
        /// The faithfulness curve of the method's top-n circuits.
        public var curve: FaithfulnessCurve?
        /// ROC AUC of |edge score| against an edge-level ground truth, when there is one.
        public var edgeAUC: Double?

        public init(method: String, scores: [Float], seconds: Double, nodeAUC: Double? = nil, curve: FaithfulnessCurve? = nil) {
            (self.method, self.scores, self.seconds, self.nodeAUC, self.curve) = (method, scores, seconds, nodeAUC, curve)
        }
    }

    public var task: String
    public var metric: TaskMetric
    /// Prompts the methods and curves used.
    public var prompts: Int
    public var ablation: EdgeAblation
    public var graph: ComputationalGraph
    public var groundTruth: [HeadID]?
    public var methods: [MethodResult]

    public init(task: String, metric: TaskMetric, prompts: Int, ablation: EdgeAblation, graph: ComputationalGraph,
                groundTruth: [HeadID]?, methods: [MethodResult]) {
        (self.task, self.metric, self.prompts, self.ablation, self.graph, self.groundTruth, self.methods)
            = (task, metric, prompts, ablation, graph, groundTruth, methods)
    }

    /// A method's scores on the report's graph.
    public func scored(_ result: MethodResult) -> ScoredGraph {
        ScoredGraph(method: result.method, graph: graph, scores: result.scores, seconds: result.seconds)
    }
}

/// Runs edge-level methods on a task, side by side.
public enum EdgeDiscovery {
    /// The methods by command-line name.
    public enum Method: String, CaseIterable, Codable, Sendable {
        case eap, eapIG = "eap-ig", eapIGActivations = "eap-ig-activations", edgePatching = "edge-patching", acdcEdges = "acdc-edges"
    }

    public struct Options: Sendable {
        public var methods: [Method] = [.eap, .eapIG, .edgePatching]
        public var ablation: EdgeAblation = .counterfactual
        /// Interpolation steps of EAP-IG (both kinds).
        public var steps = 5
        /// ACDC threshold τ on the KL divergence.
        public var acdcThreshold: Float = 0.01
        /// Circuit sizes of the faithfulness curve (fractions of all edges); empty skips the curves.
        public var fractions: [Double] = FaithfulnessCurve.mibFractions
        /// An edge-level ground truth of the model's graph: each method then gets an edge AUC.
        public var edgeTruth: EdgeGroundTruth?

        public init() {}
    }

    /// Runs every method in `options.methods`, in order, on `prompts` (positives with corrupted twins).
    ///
    /// - Parameters:
    ///   - progress: called with a method's name and a step description before each step.
    ///   - onResult: called with each method's complete result as soon as it exists.
    public static func run(model: Transformer, task: String, prompts: [TaskPrompt], metric: TaskMetric, groundTruth: Set<HeadID>?,
                           options: Options, progress: ((String) -> Void)? = nil,
                           onResult: ((EdgeDiscoveryReport.MethodResult) throws -> Void)? = nil) throws -> EdgeDiscoveryReport {
        let graph = ComputationalGraph(config: model.config)
        _ = try ReceiverMath(model: model)                                // unsupported models fail before any work
        var results: [EdgeDiscoveryReport.MethodResult] = []
        for method in options.methods {
            progress?(method.rawValue)
            let scored: ScoredGraph
            switch method {
            case .eap:
                scored = try EdgeAttribution.run(model: model, prompts: prompts, metric: metric, method: .eap, ablation: options.ablation)
            case .eapIG:
                scored = try EdgeAttribution.run(model: model, prompts: prompts, metric: metric, method: .integratedGradients(steps: options.steps),
                                                 ablation: options.ablation)
            case .eapIGActivations:
                scored = try EdgeAttribution.run(model: model, prompts: prompts, metric: metric,
                                                 method: .integratedGradientsOnActivations(steps: options.steps), ablation: options.ablation)
            case .edgePatching:
                scored = try EdgePatching.run(model: model, prompts: prompts, metric: metric, ablation: options.ablation)
            case .acdcEdges:
                scored = try EdgeACDC.run(model: model, prompts: prompts, metric: metric, threshold: options.acdcThreshold,
                                          ablation: options.ablation).scores
            }
            var result = EdgeDiscoveryReport.MethodResult(method: scored.method, scores: scored.scores, seconds: scored.seconds)
            if let truth = groundTruth {
                let nodes = scored.nodeScores()
                result.nodeAUC = CircuitEvaluation.rocAUC(scores: nodes.scores, labels: nodes.heads.map { truth.contains($0) })
            }
            result.edgeAUC = options.edgeTruth?.auc(scored)
            if !options.fractions.isEmpty {
                progress?("\(method.rawValue) faithfulness curve")
                result.curve = try EdgeFaithfulness.curve(model: model, prompts: prompts, metric: metric, scores: scored,
                                                          ablation: options.ablation, fractions: options.fractions)
            }
            try onResult?(result)
            results.append(result)
        }
        return EdgeDiscoveryReport(task: task, metric: metric, prompts: prompts.count, ablation: options.ablation, graph: graph,
                                   groundTruth: groundTruth.map { $0.sorted() }, methods: results)
    }
}
