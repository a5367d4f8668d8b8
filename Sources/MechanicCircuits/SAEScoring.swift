import Dispatch
import MechanicModel
import MechanicSAE
import MechanicTasks
import MechanicTensor

/// The discrete-SAE method of O'Neill & Bui (2024): capture every head's output on positive and
/// negative prompts, train one small SAE on the outputs of a few prompts, turn each (prompt, head)
/// output into a code (argmax of the hidden layer), and score heads by the codes only positives produce.
public enum SAEScoring {
    public struct Options: Codable, Equatable, Sendable {
        /// The SAE's shape and training (defaults: the reference protocol).
        public var sae: SAEConfiguration
        /// Prompts whose head outputs train the SAE (half positives, half negatives).
        public var trainingPrompts: Int = 10
        /// How head outputs become one vector per prompt.
        public var meanOverPositions: Bool = true
        /// Scale every (prompt, head) output to unit length before the SAE sees it. Not in the
        /// reference protocol (off by default): without it the MSE is dominated by the heads with
        /// the largest outputs, and a quiet head's outputs collapse onto a few codes whatever it does.
        public var normalizeOutputs: Bool = false
        /// Head pairs counted by the edge variant (`nil`: heads-per-layer² / 2, as the reference code).
        public var topPairs: Int?

        public init(sae: SAEConfiguration, trainingPrompts: Int = 10, meanOverPositions: Bool = true, topPairs: Int? = nil,
                    normalizeOutputs: Bool = false) {
            self.normalizeOutputs = normalizeOutputs
            self.sae = sae
            self.trainingPrompts = trainingPrompts
            self.meanOverPositions = meanOverPositions
            self.topPairs = topPairs
        }
    }

    public struct Result: Codable, Equatable, Sendable {
        /// |codes on positives \ codes on negatives| per head.
        public var nodes: HeadScores
        /// Heads counted in the top code-pair-scored head pairs.
        public var edgeNodes: HeadScores
        public var losses: [Float]
    }

    /// Scores every head of `model` on a task dataset: captures the head outputs, then `score`s them.
    public static func run(model: Transformer, dataset: TaskDataset, options: Options,
                           progress: ((String) -> Void)? = nil) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        progress?("capturing head outputs")
        let (positive, negative) = try capture(model: model, dataset: dataset, options: options)
        var result = try score(positive: positive, negative: negative, layers: model.config.layers, heads: model.config.heads,
                               options: options, progress: progress)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        result.nodes.seconds = seconds
        result.edgeNodes.seconds = seconds
        return result
    }

    /// The SAE's input: every head's output on the positives and on the negatives, each
    /// `[examples, layers · heads, dModel]`, reduced as `options` says (not yet normalised).
    /// Capture once and `score` many times to train several SAEs on the same prompts.
    ///
    /// - Parameter progress: called with the number of prompts done, positives first, then negatives.
    public static func capture(model: Transformer, dataset: TaskDataset, options: Options,
                               progress: ((Int) -> Void)? = nil) throws -> (positive: Tensor, negative: Tensor) {
        let reduction: HeadOutputs.Reduction = options.meanOverPositions ? .meanOverPositions : .position(-1)
        let positives = dataset.positives.count
        return (try HeadOutputs.capture(model: model, prompts: dataset.positives.map(\.tokens), reduction: reduction, progress: progress),
                try HeadOutputs.capture(model: model, prompts: dataset.negatives.map(\.tokens), reduction: reduction,
                                        progress: progress.map { report in { report(positives + $0) } }))
    }

    /// Trains the SAE on captured head outputs and scores every head.
    ///
    /// - Parameters:
    ///   - positive, negative: head outputs `[examples, layers · heads, dModel]` from `capture`; the
    ///     SAE trains on the first `options.trainingPrompts` (half from each side).
    ///   - layers, heads: the model's layers and heads per layer (to name heads and size the edge count).
    public static func score(positive: Tensor, negative: Tensor, layers: Int, heads headsPerLayer: Int, options: Options,
                             progress: ((String) -> Void)? = nil) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let heads = layers * headsPerLayer, d = positive.shape.last ?? 0
        guard positive.shape.count == 3, negative.shape.count == 3, positive.shape[1] == heads, negative.shape[1] == heads else {
            throw SAEError.invalidConfiguration("head outputs must be [examples, \(heads) heads, dModel] on both sides; "
                                                + "got \(positive.shape) and \(negative.shape)")
        }
        guard negative.shape[2] == d else { throw SAEError.wrongInputWidth(expected: d, found: negative.shape[2]) }
        var positive = positive, negative = negative
        if options.normalizeOutputs {
            HeadOutputs.normalize(&positive)
            HeadOutputs.normalize(&negative)
        }
        let training = trainingRows(positive: positive, negative: negative, prompts: options.trainingPrompts)
        progress?("training the SAE on \(training.shape[0] / heads) prompts × \(heads) heads")
        var config = options.sae
        config.inputDimension = d
        let (sae, losses) = try SparseAutoencoder.train(on: training, configuration: config)
        progress?("coding every prompt")
        let positiveCodes = try codes(sae, positive, heads: heads)
        let negativeCodes = try codes(sae, negative, heads: heads)
        progress?("scoring heads and head pairs")
        let nodeScores = DiscreteCodeScoring.nodeScores(positive: positiveCodes, negative: negativeCodes)
        let edges = DiscreteCodeScoring.edgeScores(positive: positiveCodes, negative: negativeCodes, codes: config.hiddenUnits)
        let top = options.topPairs ?? max(1, headsPerLayer * headsPerLayer / 2)
        let edgeNodeScores = DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: heads, top: top)
        let ids = HeadID.all(layers: layers, heads: headsPerLayer)
        let edgeList = edges.sorted { ($0.key.first, $0.key.second) < ($1.key.first, $1.key.second) }
            .map { EdgeScore(from: ids[$0.key.first], to: ids[$0.key.second], score: Float($0.value)) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(nodes: HeadScores(method: "sae", heads: ids, scores: nodeScores, edges: edgeList, seconds: seconds),
                      edgeNodes: HeadScores(method: "sae-edges", heads: ids, scores: edgeNodeScores, seconds: seconds),
                      losses: losses)
    }

    /// The SAE's training rows: every head's output on the first `prompts / 2` positives and the
    /// first negatives making up the rest (fewer when a side has fewer), as `[rows, dModel]`.
    ///
    /// - Parameters:
    ///   - positive, negative: head outputs `[examples, heads, dModel]`.
    public static func trainingRows(positive: Tensor, negative: Tensor, prompts: Int) -> Tensor {
        let heads = positive.shape[1], d = positive.shape[2]
        let pos = min(max(1, prompts / 2), positive.shape[0]), neg = min(max(0, prompts - pos), negative.shape[0])
        var rows: [Float] = []
        rows.reserveCapacity((pos + neg) * heads * d)
        rows += positive.storage[0..<(pos * heads * d)]
        rows += negative.storage[0..<(neg * heads * d)]
        return Tensor(shape: [(pos + neg) * heads, d], storage: rows)
    }

    /// Codes `[example][head]` of head outputs `[examples, heads, dModel]`.
    static func codes(_ sae: SparseAutoencoder, _ outputs: Tensor, heads: Int) throws -> [[Int]] {
        let flat = try sae.codes(outputs.reshaped([outputs.shape[0] * heads, outputs.shape[2]]))
        return (0..<outputs.shape[0]).map { Array(flat[($0 * heads)..<(($0 + 1) * heads)]) }
    }
}
