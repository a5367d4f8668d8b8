import Dispatch
import MechanicModel
import MechanicSAE
import MechanicTasks
import MechanicTensor

/// The discrete-SAE method of O'Neill & Bui (2024): capture every head's output on positive and
/// negative prompts, train one small SAE on the outputs of a few prompts, turn each (prompt, head)
/// output into a code (argmax of the hidden layer), and score heads by the codes only positives produce.
///
/// Defaults follow the authors' code (charlieoneill11/sae-circuits at 10fd2e7, `src/main.py`,
/// `src/node.py`, `src/edge.py`) step for step; `scripts/make_sae_parity_fixture.py` transcribes it
/// and `SAEParityTests` checks Mechanic against it.
public enum SAEScoring {
    /// Which prompts' head outputs train the SAE.
    public enum TrainingDraw: String, Codable, Equatable, Sendable, CaseIterable {
        /// A seeded random `trainingPrompts` of all prompts, positives and negatives together, in
        /// the drawn order: the reference (`prepare_data`'s `randperm`).
        case random
        /// The first `trainingPrompts / 2` positives and the first negatives making up the rest:
        /// Mechanic's choice before reference parity, a departure kept as an option (it guarantees
        /// both sides are seen, which a draw of 10 of 500 does not).
        case firstOfEachSide = "first-of-each-side"
    }

    public struct Options: Codable, Equatable, Sendable {
        /// The SAE's shape and training (defaults: the reference protocol).
        public var sae: SAEConfiguration
        /// Prompts whose head outputs train the SAE.
        public var trainingPrompts: Int = 10
        /// How the training prompts are chosen (reference: a random draw from all prompts).
        public var trainingDraw: TrainingDraw = .random
        /// How head outputs become one vector per prompt.
        public var meanOverPositions: Bool = true
        /// Scale every (prompt, head) output to unit length before the SAE sees it. Not in the
        /// reference protocol (off by default): without it the MSE is dominated by the heads with
        /// the largest outputs, and a quiet head's outputs collapse onto a few codes whatever it does.
        public var normalizeOutputs: Bool = false
        /// The label-permutation control run on the codes (`permutations` 0: none, and no `sae-z`).
        public var control = LabelPermutation.Options()
        /// Head slots the edge variant counts from the best-scored ordered head pairs (`nil`:
        /// heads² / 2 over all heads, the reference's `k`; see ``DiscreteCodeScoring/nodeScoresFromEdges(_:heads:components:)``).
        public var edgeComponents: Int?

        public init(sae: SAEConfiguration, trainingPrompts: Int = 10, trainingDraw: TrainingDraw = .random,
                    meanOverPositions: Bool = true, edgeComponents: Int? = nil, normalizeOutputs: Bool = false) {
            self.normalizeOutputs = normalizeOutputs
            self.sae = sae
            self.trainingPrompts = trainingPrompts
            self.trainingDraw = trainingDraw
            self.meanOverPositions = meanOverPositions
            self.edgeComponents = edgeComponents
        }
    }

    public struct Result: Codable, Equatable, Sendable {
        /// |codes on positives \ codes on negatives| per head.
        public var nodes: HeadScores
        /// Heads counted in the top code-pair-scored head pairs.
        public var edgeNodes: HeadScores
        public var losses: [Float]
        /// The z-score of each head's node score against its label-permutation null (`sae-z`).
        public var zScores: HeadScores?
        /// The label-permutation control of `nodes`, `edgeNodes` and `zScores`, and of every head pair.
        public var nodeControl: LabelPermutation.HeadControl?
        public var edgeNodeControl: LabelPermutation.HeadControl?
        public var zControl: LabelPermutation.HeadControl?
        public var pairControl: [LabelPermutation.PairStatistic]?
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
        result.zScores?.seconds = seconds
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
    ///     SAE trains on `options.trainingPrompts` of them, drawn as `options.trainingDraw` says.
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
        let training = trainingRows(positive: positive, negative: negative, prompts: options.trainingPrompts,
                                    draw: options.trainingDraw, seed: options.sae.seed)
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
        let components = options.edgeComponents ?? heads * heads / 2
        let edgeNodeScores = DiscreteCodeScoring.nodeScoresFromEdges(edges, heads: heads, components: components)
        let ids = HeadID.all(layers: layers, heads: headsPerLayer)
        let edgeList = edges.sorted { ($0.key.first, $0.key.second) < ($1.key.first, $1.key.second) }
            .map { EdgeScore(from: ids[$0.key.first], to: ids[$0.key.second], score: Float($0.value)) }
        var result = Result(nodes: HeadScores(method: "sae", heads: ids, scores: nodeScores, edges: edgeList, seconds: 0),
                            edgeNodes: HeadScores(method: "sae-edges", heads: ids, scores: edgeNodeScores, seconds: 0),
                            losses: losses)
        if options.control.permutations > 0 {
            progress?("label-permutation control (\(options.control.permutations) shuffles)")
            control(&result, positive: positiveCodes, negative: negativeCodes, codes: config.hiddenUnits, components: components,
                    options: options.control)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        result.nodes.seconds = seconds
        result.edgeNodes.seconds = seconds
        result.zScores?.seconds = seconds
        return result
    }

    /// Adds the label-permutation control to `result`: the null of every head's node and edge-node
    /// score and of every pair score, from the same codes under shuffled labels, and `sae-z`.
    static func control(_ result: inout Result, positive: [[Int]], negative: [[Int]], codes: Int, components: Int,
                        options: LabelPermutation.Options) {
        let ids = result.nodes.heads, heads = ids.count
        let labels = LabelPermutation.shuffledLabels(positives: positive.count, negatives: negative.count, options: options)
        let (_, nodeNull) = LabelPermutation.nodeScores(positive: positive, negative: negative, codes: codes, labels: labels)
        let (pairObserved, pairNull) = LabelPermutation.pairScores(positive: positive, negative: negative, codes: codes, labels: labels)
        func statistics(_ observed: [Float], _ null: [[Float]]) -> [LabelPermutation.Statistic] {
            (0..<heads).map { h in LabelPermutation.Statistic(observed: observed[h], null: null.map { $0[h] }) }
        }
        let nodeStats = statistics(result.nodes.scores, nodeNull)
        result.nodeControl = .init(permutations: labels.count, seed: options.seed, heads: nodeStats, nullScores: nodeNull)

        // Pairs in (0,1), (0,2), … order, as `pairScores` lists them.
        var pairStats: [LabelPermutation.PairStatistic] = []
        var pairs: [(a: Int, b: Int)] = []
        for a in 0..<heads {
            for b in (a + 1)..<max(a + 1, heads) {
                let p = pairs.count
                pairs.append((a, b))
                pairStats.append(.init(first: ids[a], second: ids[b],
                                       statistic: .init(observed: Float(pairObserved[p]), null: pairNull[p].map(Float.init))))
            }
        }
        // Each shuffle's sae-edges scores, from its ordered pair scores [heads, heads].
        var ordered = [Int](repeating: 0, count: heads * heads)
        let edgeNull = (0..<labels.count).map { k in
            for (p, pair) in pairs.enumerated() {
                ordered[pair.a * heads + pair.b] = Int(pairNull[p][k])
                ordered[pair.b * heads + pair.a] = Int(pairNull[p][k])
            }
            return DiscreteCodeScoring.nodeScoresFromEdges(ordered: ordered, heads: heads, components: components)
        }
        result.pairControl = pairStats
        result.edgeNodeControl = .init(permutations: labels.count, seed: options.seed,
                                       heads: statistics(result.edgeNodes.scores, edgeNull), nullScores: edgeNull)

        // sae-z, and its own null: each shuffle's scores put through the same standardisation.
        let z = nodeStats.map(\.z)
        let zNull = nodeNull.map { draw in
            (0..<heads).map { h in
                (draw[h] - nodeStats[h].nullMean) / LabelPermutation.zDivisor(sd: nodeStats[h].nullSD, permutations: labels.count)
            }
        }
        result.zScores = HeadScores(method: "sae-z", heads: ids, scores: z, seconds: 0)
        result.zControl = .init(permutations: labels.count, seed: options.seed, heads: statistics(z, zNull), nullScores: zNull)
    }


    /// The SAE's training rows, every head's output on each chosen prompt, as `[rows, dModel]`
    /// (prompt-major: all heads of the first chosen prompt, then the next).
    ///
    /// - Parameters:
    ///   - positive, negative: head outputs `[examples, heads, dModel]`.
    ///   - draw: `.random` shuffles all prompts (positives, then negatives, numbered as the
    ///     reference numbers its examples) with a seeded Fisher–Yates and keeps the first `prompts`;
    ///     `.firstOfEachSide` takes the first `prompts / 2` positives and the first negatives
    ///     making up the rest (fewer when a side has fewer).
    public static func trainingRows(positive: Tensor, negative: Tensor, prompts: Int, draw: TrainingDraw = .random,
                                    seed: UInt64 = 0) -> Tensor {
        let chosen = trainingPromptIndices(positives: positive.shape[0], negatives: negative.shape[0], prompts: prompts,
                                           draw: draw, seed: seed)
        return trainingRows(positive: positive, negative: negative, prompts: chosen)
    }

    /// The prompts `trainingRows` uses: indices into positives then negatives (`i ≥ positives` is
    /// negative `i − positives`), in training-row order.
    public static func trainingPromptIndices(positives: Int, negatives: Int, prompts: Int, draw: TrainingDraw,
                                             seed: UInt64) -> [Int] {
        switch draw {
        case .random:
            var order = Array(0..<(positives + negatives))
            var rng = SeededRandom(seed: seed ^ 0x9E37_79B9_7F4A_7C15)       // not the SAE's own weight stream
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            return Array(order.prefix(max(1, prompts)))
        case .firstOfEachSide:
            let pos = min(max(1, prompts / 2), positives), neg = min(max(0, prompts - pos), negatives)
            return Array(0..<pos) + (0..<neg).map { positives + $0 }
        }
    }

    /// Every head's output on the given prompts (indices as ``trainingPromptIndices(positives:negatives:prompts:draw:seed:)``
    /// gives them), as `[prompts · heads, dModel]`.
    public static func trainingRows(positive: Tensor, negative: Tensor, prompts chosen: [Int]) -> Tensor {
        let heads = positive.shape[1], d = positive.shape[2], width = heads * d, positives = positive.shape[0]
        var rows: [Float] = []
        rows.reserveCapacity(chosen.count * width)
        for i in chosen {
            if i < positives { rows += positive.storage[(i * width)..<((i + 1) * width)] }
            else { rows += negative.storage[((i - positives) * width)..<((i - positives + 1) * width)] }
        }
        return Tensor(shape: [chosen.count * heads, d], storage: rows)
    }

    /// Codes `[example][head]` of head outputs `[examples, heads, dModel]`.
    static func codes(_ sae: SparseAutoencoder, _ outputs: Tensor, heads: Int) throws -> [[Int]] {
        let flat = try sae.codes(outputs.reshaped([outputs.shape[0] * heads, outputs.shape[2]]))
        return (0..<outputs.shape[0]).map { Array(flat[($0 * heads)..<(($0 + 1) * heads)]) }
    }
}
