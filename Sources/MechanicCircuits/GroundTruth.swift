import Dispatch
import Foundation
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Derives a model's ground-truth circuit for a task by greedy backward elimination under mean
/// ablation: repeatedly remove the head whose removal costs the task metric least, while the
/// remaining heads keep at least `retain` of the full model's metric.
///
/// Why this procedure: it tests the circuit as a whole (every removal is evaluated with all
/// earlier removals in place), it uses mean ablation, which none of the scored methods use
/// (patching, ACDC and the SAE method use single-head or resample ablation), and its stopping
/// rule is the faithfulness criterion itself. Each round costs one forward pass per remaining
/// head, so a 32-head model needs about 500 passes over the prompt set.
public enum GroundTruth {
    public struct Head: Codable, Equatable, Sendable {
        public var head: HeadID
        /// Metric lost when this head alone is mean-ablated from the final circuit.
        public var importance: Float
        /// A role from the head-type scores, when one stands out.
        public var role: String?
    }

    public struct Circuit: Codable, Equatable, Sendable {
        public var task: String
        public var procedure: String
        public var retain: Float
        public var prompts: Int
        public var heads: [Head]
        public var faithfulness: Faithfulness.Result
        public var seconds: Double

        public var headSet: Set<HeadID> { Set(heads.map(\.head)) }
    }

    /// Runs the elimination on `prompts` (positives of a task) and records the circuit's faithfulness.
    ///
    /// - Parameters:
    ///   - retain: share of the full model's mean metric the circuit must keep.
    ///   - roles: head-type labels to attach (from ``HeadTypes``), or empty.
    public static func derive(
        model: Transformer, task: String, prompts: [TaskPrompt], metric: TaskMetric, retain: Float = 0.9,
        roles: [HeadID: String] = [:], seed: UInt64 = 0, progress: ((Int, Int) -> Void)? = nil
    ) throws -> Circuit {
        let start = DispatchTime.now().uptimeNanoseconds
        let c = model.config
        let all = HeadID.all(layers: c.layers, heads: c.heads)
        let source = try Faithfulness.ablationSource(model: model, prompts: prompts, ablation: .mean)
        func value(_ kept: Set<HeadID>) throws -> Float {
            let interventions = Faithfulness.ablations(keeping: kept, config: c, source: source)
            // One batch: the ablation source holds every prompt at the padded length of the whole set.
            let values = try TaskDataset.metricValues(model: model, prompts: prompts, metric: metric, interventions: interventions,
                                                      batchSize: prompts.count)
            return values.reduce(0, +) / Float(max(1, values.count))
        }
        let full = try value(Set(all))
        let batch = TokenBatch(rows: prompts.map(\.tokens))
        /// The mean metric with `kept` alone unablated, recomputed from `layer` on: `residual` is the
        /// stream entering `layer` under ablations that agree with `kept` below it. Bit-identical to
        /// `value(kept)`, which recomputes every layer.
        func value(_ kept: Set<HeadID>, from layer: Int, residual: Tensor) throws -> Float {
            let interventions = Faithfulness.ablations(keeping: kept, config: c, source: source, from: layer)
            let logits = try model.run(batch, fromLayer: layer, residual: residual, logits: .last, interventions: interventions).logits!
            let values = ActivationPatching.values(logits, prompts: prompts, metric: metric, vocab: c.vocabSize)
            return values.reduce(0, +) / Float(max(1, values.count))
        }
        var kept = Set(all)
        var round = 0
        while kept.count > 1 {
            round += 1
            // The streams entering each layer with the current ablations, so a candidate removal in
            // layer l recomputes only layers l and later.
            let streams = try model.run(batch, logits: .none, capture: CaptureSpec(where: { $0.point == .residPre }),
                                        interventions: Faithfulness.ablations(keeping: kept, config: c, source: source)).cache
            var best: (head: HeadID, value: Float)?
            for head in kept.sorted() {
                let v = try value(kept.subtracting([head]), from: head.layer, residual: streams[.residPre(head.layer)]!)
                if best == nil || v > best!.value { best = (head, v) }
            }
            progress?(all.count - kept.count + 1, all.count)
            guard let best, best.value >= retain * full else { break }
            kept.remove(best.head)
        }
        let final = try value(kept)
        let heads = try kept.sorted().map { head in
            Head(head: head, importance: final - (try value(kept.subtracting([head]))), role: roles[head])
        }
        let faithfulness = try Faithfulness.evaluate(model: model, prompts: prompts, metric: metric, circuit: kept,
                                                     ablation: .mean, randomTrials: 20, seed: seed)
        return Circuit(task: task, procedure: "greedy backward elimination under mean ablation, keep ≥ \(retain) of the metric",
                       retain: retain, prompts: prompts.count, heads: heads, faithfulness: faithfulness,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
