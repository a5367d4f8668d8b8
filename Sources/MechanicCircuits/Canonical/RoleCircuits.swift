import Dispatch
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Ground truth v2: role-based circuits in the style of the literature, where a head belongs to
/// a task's circuit for the part it plays, measured with aligned counterfactuals, not because a
/// minimal set happens to need it.
///
/// - IOI: every head with an IOI role (`IOIMechanism.roles`: duplicate-token, induction at S2,
///   S-inhibition, name mover, backup and negative name mover), as in Wang et al.'s 26-head circuit.
/// - Induction: the induction heads (score ≥ 0.4 on random repeats) and the previous-token heads
///   (≥ 0.4) in earlier layers, as in Olsson et al.
/// - Greater-than and docstring, whose papers define circuits by path patching: every head whose
///   output, patched from each prompt's aligned corrupted twin, moves at least 5% of the metric.
public enum RoleCircuits {
    /// Induction and previous-token thresholds for the induction circuit.
    public static let headTypeThreshold: Float = 0.4
    /// Share of the metric a head must move to join a patching-defined circuit.
    public static let effectThreshold: Float = 0.05

    public static func ioi(_ report: IOIMechanism.Report) -> [GroundTruth.Head] {
        let r = report.roles
        var role: [HeadID: [String]] = [:]
        for (list, name) in [(r.duplicateToken, "duplicate token"), (r.inductionAtS2, "induction (S2)"), (r.sInhibition, "S-inhibition"),
                             (r.nameMovers, "name mover"), (r.backupNameMovers, "backup name mover"),
                             (r.negativeNameMovers, "negative name mover")] {
            for h in list { role[h, default: []].append(name) }
        }
        return r.all.map { h in
            GroundTruth.Head(head: h, importance: report.scores.patchEffect[report.scores.heads.firstIndex(of: h)!],
                             role: role[h]!.joined(separator: ", "))
        }
    }

    public static func induction(_ report: InductionMechanism.Report) -> [GroundTruth.Head] {
        let ind = report.heads.indices.filter { report.induction[$0] >= headTypeThreshold }
        // Heads that copy by attending one token further (i − n + 2, reading the previous-token
        // copy there) do the induction job by another route; they are in the circuit, labelled so.
        let shifted = report.shiftedInduction.map { s in report.heads.indices.filter { s[$0] >= headTypeThreshold && !ind.contains($0) } } ?? []
        let lastInduction = (ind + shifted).map { report.heads[$0].layer }.max() ?? -1
        let prev = report.heads.indices.filter { report.previousToken[$0] >= headTypeThreshold && report.heads[$0].layer < lastInduction }
        return (prev.map { GroundTruth.Head(head: report.heads[$0], importance: report.previousToken[$0], role: "previous token") }
                + ind.map { GroundTruth.Head(head: report.heads[$0], importance: report.induction[$0], role: "induction") }
                + shifted.map { GroundTruth.Head(head: report.heads[$0], importance: report.shiftedInduction![$0], role: "induction (i − n + 2)") })
            .sorted { $0.head < $1.head }
    }

    /// Heads whose aligned-counterfactual patch moves ≥ `effectThreshold` of the metric.
    public static func byPatching(model: Transformer, prompts: [TaskPrompt], metric: TaskMetric) throws -> [GroundTruth.Head] {
        let c = model.config
        let effects = try PathPatching.headEffects(model: model, prompts: prompts, metric: metric)
        return HeadID.all(layers: c.layers, heads: c.heads).enumerated().filter { effects[$0.offset] >= effectThreshold }
            .map { GroundTruth.Head(head: $0.element, importance: effects[$0.offset], role: "moves ≥ 5% under patching") }
    }

    /// A role-based circuit with its faithfulness (mean ablation of every other head, as for the minimal sets).
    public static func circuit(model: Transformer, task: String, heads: [GroundTruth.Head], prompts: [TaskPrompt], metric: TaskMetric,
                               procedure: String, seed: UInt64, started: UInt64) throws -> GroundTruth.Circuit {
        let faithfulness = try Faithfulness.evaluate(model: model, prompts: prompts, metric: metric, circuit: Set(heads.map(\.head)),
                                                     ablation: .mean, randomTrials: 20, seed: seed)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return GroundTruth.Circuit(task: task, procedure: procedure, retain: 0, prompts: prompts.count, heads: heads,
                                   faithfulness: faithfulness, seconds: seconds)
    }
}

/// How much a ground-truth procedure's circuit moves with the prompt sample: the circuit derived
/// on each of several prompt seeds, and the mean pairwise Jaccard similarity of those head sets.
public struct CircuitStability: Codable, Equatable, Sendable {
    public var task: String
    public var procedure: String
    public var seeds: [UInt64]
    public var circuits: [[HeadID]]
    public var meanJaccard: Double

    public init(task: String, procedure: String, seeds: [UInt64], circuits: [[HeadID]]) {
        self.task = task
        self.procedure = procedure
        self.seeds = seeds
        self.circuits = circuits
        var total = 0.0, pairs = 0
        for i in circuits.indices {
            for j in circuits.indices where j > i {
                let a = Set(circuits[i]), b = Set(circuits[j])
                let union = a.union(b).count
                total += union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
                pairs += 1
            }
        }
        meanJaccard = pairs == 0 ? 1 : total / Double(pairs)
    }
}
