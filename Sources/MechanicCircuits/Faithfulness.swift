import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// How much of the task a circuit carries: the task metric with every head outside the circuit
/// ablated, against the full model, the circuit's complement and random head sets of equal size.
public enum Faithfulness {
    /// What an ablated head outputs.
    public enum Ablation: String, Codable, CaseIterable, Sendable {
        /// Its mean `hook_z` over the prompt set, per position.
        case mean
        /// Its `hook_z` on the corrupted prompt.
        case resample
    }

    public struct Result: Codable, Equatable, Sendable {
        /// Mean task metric of the full model.
        public var fullModel: Float
        /// Mean task metric with only the circuit's heads left.
        public var circuit: Float
        /// Mean task metric with the circuit's heads ablated (everything else left).
        public var complement: Float
        /// Mean task metric of each random head set of the circuit's size.
        public var random: [Float]

        public init(fullModel: Float, circuit: Float, complement: Float, random: [Float]) {
            self.fullModel = fullModel
            self.circuit = circuit
            self.complement = complement
            self.random = random
        }

        /// `circuit / fullModel`: the share of the metric the circuit keeps.
        public var recovered: Float { fullModel == 0 ? 0 : circuit / fullModel }
        public var randomMean: Float { random.isEmpty ? .nan : random.reduce(0, +) / Float(random.count) }
    }

    /// Evaluates `circuit` on `prompts` (for resample ablation, each corrupted prompt as long as its clean one).
    public static func evaluate(
        model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, circuit: Set<HeadID>,
        ablation: Ablation = .mean, randomTrials: Int = 10, seed: UInt64 = 0
    ) throws -> Result {
        let c = model.config
        let all = HeadID.all(layers: c.layers, heads: c.heads)
        let source = try ablationSource(model: model, prompts: prompts, ablation: ablation)
        func value(keeping kept: Set<HeadID>) throws -> Float {
            let interventions = ablations(keeping: kept, config: c, source: source)
            // One batch: the ablation source holds every prompt at the padded length of the whole set.
            let values = try TaskDataset.metricValues(model: model, prompts: prompts, metric: metric, interventions: interventions,
                                                      batchSize: prompts.count)
            return values.reduce(0, +) / Float(max(1, values.count))
        }
        var rng = SeededRandom(seed: seed)
        var random: [Float] = []
        for _ in 0..<randomTrials {
            var pool = all
            pool.shuffle(using: &rng)
            random.append(try value(keeping: Set(pool.prefix(circuit.count))))
        }
        return Result(fullModel: try value(keeping: Set(all)), circuit: try value(keeping: circuit),
                      complement: try value(keeping: Set(all).subtracting(circuit)), random: random)
    }

    /// Interventions that replace, in layers `layer` and later, every head outside `kept` with its
    /// `hook_z` from `source`.
    static func ablations(keeping kept: Set<HeadID>, config c: TransformerConfig, source: ActivationCache, from layer: Int = 0) -> [Intervention] {
        var interventions: [Intervention] = []
        for l in layer..<c.layers {
            let heads = (0..<c.heads).filter { !kept.contains(HeadID(layer: l, head: $0)) }
            if !heads.isEmpty { interventions.append(Intervention(.z(l), heads: heads, .patch(source))) }
        }
        return interventions
    }

    /// A cache holding every layer's replacement `hook_z` for the prompt batch.
    static func ablationSource(model: Transformer, prompts: [TaskPrompt], ablation: Ablation) throws -> ActivationCache {
        let rows = prompts.map(\.tokens)
        guard !rows.isEmpty else { throw TaskError.tooFewPrompts(task: "faithfulness", wanted: 1, made: 0, reason: "no prompts") }
        let spec = CaptureSpec(where: { $0.point == .z })
        switch ablation {
        case .resample:
            return try model.run(try ActivationPatching.corruptedBatch(prompts), logits: .none, capture: spec).cache
        case .mean:
            var cache = try model.run(TokenBatch(rows: rows), logits: .none, capture: spec).cache
            for name in cache.names {
                let z = cache[name]!
                let per = z.count / z.shape[0]
                var mean = [Float](repeating: 0, count: per)
                for b in 0..<z.shape[0] { for i in 0..<per { mean[i] += z.storage[b * per + i] } }
                for i in 0..<per { mean[i] /= Float(z.shape[0]) }
                cache[name] = Tensor(shape: z.shape, storage: (0..<z.shape[0]).flatMap { _ in mean })
            }
            return cache
        }
    }
}
