import Dispatch
import Foundation
import MechanicModel
import MechanicSAE
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// One circuit-discovery run: a task dataset, every chosen method's head scores, and each scored
/// against a ground truth when one is given. The value `mechanic discover` prints and stores.
public struct DiscoveryReport: Codable, Equatable, Sendable {
    public struct MethodResult: Codable, Equatable, Sendable {
        public var scores: HeadScores
        /// ROC AUC against the ground truth (node level).
        public var auc: Double?
        /// Precision/recall/F1 of the top-|ground truth| heads.
        public var match: CircuitEvaluation.Match?
        /// Faithfulness of the top-|ground truth| heads under mean ablation.
        public var faithfulness: Faithfulness.Result?
        /// The label-permutation control of an SAE score: each head's null and, with a ground
        /// truth, the AUC under shuffled labels beside ``auc``.
        public var control: LabelPermutation.HeadControl?

        public init(scores: HeadScores, auc: Double? = nil, match: CircuitEvaluation.Match? = nil,
                    faithfulness: Faithfulness.Result? = nil) {
            self.scores = scores
            self.auc = auc
            self.match = match
            self.faithfulness = faithfulness
        }
    }

    public var task: String
    public var metric: TaskMetric
    public var positives: Int
    public var negatives: Int
    public var droppedPositives: Int
    public var groundTruth: [HeadID]?
    public var methods: [MethodResult]

    public init(task: String, metric: TaskMetric, positives: Int, negatives: Int, droppedPositives: Int = 0,
                groundTruth: [HeadID]? = nil, methods: [MethodResult]) {
        self.task = task
        self.metric = metric
        self.positives = positives
        self.negatives = negatives
        self.droppedPositives = droppedPositives
        self.groundTruth = groundTruth
        self.methods = methods
    }
}

/// Runs circuit-discovery methods on a task, side by side.
public enum Discovery {
    /// The methods by command-line name.
    public enum Method: String, CaseIterable, Codable, Sendable {
        case sae, saeEdges = "sae-edges", saeZ = "sae-z", patching, attribution, hisp, acdc

        /// The name its ``HeadScores`` carry (`HeadScores.method`), which stores key results by.
        public var resultName: String {
            switch self {
            case .patching: "patching-resample"
            case .acdc: "acdc-kl"
            default: rawValue
            }
        }
    }

    public struct Options: Sendable {
        public var methods: [Method] = [.sae, .saeEdges, .saeZ, .patching, .attribution, .hisp, .acdc]
        public var sae: SAEScoring.Options
        /// Prompts used by patching, attribution, ACDC and faithfulness (the SAE uses all).
        public var patchingPrompts: Int = 32
        /// ACDC threshold on the KL divergence.
        public var acdcThreshold: Float = 0.01
        public var seed: UInt64 = 0

        public init(sae: SAEScoring.Options) {
            self.sae = sae
        }
    }

    /// Runs every method in `options.methods` except those in `skipping`, in order.
    ///
    /// - Parameters:
    ///   - skipping: methods already done (a resumed run); they are left out of the report.
    ///   - progress: called with each method's name before it runs.
    ///   - onResult: called with each method's complete result as soon as it exists, so a caller can
    ///     store it in its own transaction; an error it throws stops the run.
    public static func run(model: Transformer, dataset: TaskDataset, groundTruth: Set<HeadID>?, options: Options,
                           skipping: Set<Method> = [],
                           progress: ((String) -> Void)? = nil,
                           onResult: ((DiscoveryReport.MethodResult) throws -> Void)? = nil) throws -> DiscoveryReport {
        let patchSet = Array(dataset.positives.prefix(options.patchingPrompts))
        var results: [DiscoveryReport.MethodResult] = []
        var sae: SAEScoring.Result?
        var attribution: AttributionPatching.Result?
        for method in options.methods where !skipping.contains(method) {
            progress?(method.rawValue)
            let scores: HeadScores
            var control: LabelPermutation.HeadControl?
            switch method {
            case .sae, .saeEdges, .saeZ:
                if sae == nil { sae = try SAEScoring.run(model: model, dataset: dataset, options: options.sae) }
                switch method {
                case .sae: (scores, control) = (sae!.nodes, sae!.nodeControl)
                case .saeEdges: (scores, control) = (sae!.edgeNodes, sae!.edgeNodeControl)
                default:
                    guard let z = sae!.zScores else {
                        throw SAEError.invalidConfiguration("sae-z needs the label-permutation control; set its permutations above 0")
                    }
                    (scores, control) = (z, sae!.zControl)
                }
            case .patching:
                scores = try ActivationPatching.headScores(model: model, prompts: patchSet, metric: dataset.metric, source: .resample)
            case .attribution, .hisp:
                if attribution == nil { attribution = try AttributionPatching.run(model: model, prompts: patchSet, metric: dataset.metric) }
                scores = method == .attribution ? attribution!.attribution : attribution!.gradientTimesActivation
            case .acdc:
                scores = try ACDC.run(model: model, prompts: patchSet, metric: dataset.metric, threshold: options.acdcThreshold).scores
            }
            var result = DiscoveryReport.MethodResult(scores: scores)
            result.control = control
            if let truth = groundTruth {
                let labels = scores.heads.map { truth.contains($0) }
                result.auc = CircuitEvaluation.rocAUC(scores: scores.scores, labels: labels)
                if let auc = result.auc { result.control?.evaluate(observed: auc, truth: labels) }
                let top = Set(CircuitEvaluation.topHeads(scores: scores.scores, heads: scores.heads, k: truth.count))
                result.match = CircuitEvaluation.match(predicted: top, truth: truth)
                result.faithfulness = try Faithfulness.evaluate(model: model, prompts: patchSet, metric: dataset.metric,
                                                                circuit: top, ablation: .mean, randomTrials: 5, seed: options.seed)
            }
            try onResult?(result)
            results.append(result)
        }
        return DiscoveryReport(task: dataset.task, metric: dataset.metric, positives: dataset.positives.count,
                               negatives: dataset.negatives.count, droppedPositives: dataset.droppedPositives,
                               groundTruth: groundTruth.map { $0.sorted() }, methods: results)
    }
}
