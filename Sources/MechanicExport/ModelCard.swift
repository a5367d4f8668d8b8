import Foundation
import MechanicCircuits
import MechanicCorpus
import MechanicTasks
import MechanicTraining

/// A reference model's card: how it was made, how well it does its tasks, and its ground-truth
/// circuits with the evidence for them. Rendered as Markdown (README.md of the model folder).
public struct ModelCard: Codable, Equatable, Sendable {
    public var recipe: ReferenceRecipe
    public var command: String
    public var parameters: Int
    public var trainingSeconds: Double
    public var finalLoss: Float
    public var finalHeldOutLoss: Float?
    public var scores: [TaskScore]
    public var circuits: [GroundTruth.Circuit]
    public var headTypes: HeadTypes.Scores
    /// How the numbers were made, so tests can reproduce them: prompts asked for per task and seeds.
    public var evaluation: Evaluation
    /// Canonical-mechanism checks (cards since reference models v2).
    public var mechanisms: Mechanisms? = nil
    /// Ground truth v2: role-based circuits (`circuits` holds the greedy minimal sets).
    public var roleCircuits: [GroundTruth.Circuit]? = nil
    /// Each circuit procedure re-run on several prompt seeds.
    public var stability: [CircuitStability]? = nil

    public struct Mechanisms: Codable, Equatable, Sendable {
        public var induction: InductionMechanism.Report
        public var ioi: IOIMechanism.Report

        public init(induction: InductionMechanism.Report, ioi: IOIMechanism.Report) {
            self.induction = induction
            self.ioi = ioi
        }

        /// Every check, induction first.
        public var checks: [MechanismCheck] { induction.checks + ioi.checks }
    }

    public struct Evaluation: Codable, Equatable, Sendable {
        public var scorePrompts: Int
        public var scoreSeed: UInt64
        public var circuitPrompts: Int
        public var circuitSeed: UInt64
        public var faithfulnessSeed: UInt64

        public init(scorePrompts: Int, scoreSeed: UInt64, circuitPrompts: Int, circuitSeed: UInt64, faithfulnessSeed: UInt64) {
            self.scorePrompts = scorePrompts
            self.scoreSeed = scoreSeed
            self.circuitPrompts = circuitPrompts
            self.circuitSeed = circuitSeed
            self.faithfulnessSeed = faithfulnessSeed
        }
    }

    public init(recipe: ReferenceRecipe, command: String, parameters: Int, trainingSeconds: Double, finalLoss: Float,
                finalHeldOutLoss: Float?, scores: [TaskScore], circuits: [GroundTruth.Circuit], headTypes: HeadTypes.Scores,
                evaluation: Evaluation) {
        self.recipe = recipe
        self.command = command
        self.parameters = parameters
        self.trainingSeconds = trainingSeconds
        self.finalLoss = finalLoss
        self.finalHeldOutLoss = finalHeldOutLoss
        self.scores = scores
        self.circuits = circuits
        self.headTypes = headTypes
        self.evaluation = evaluation
    }

    /// The architecture row's MLP part: GPT-2's 4 × d_model, or the width the recipe set.
    var mlpDescription: String {
        let width = recipe.mlpWidth ?? 4 * recipe.dModel
        return recipe.attentionOnly ? "attention-only (no MLPs)" : width == 4 * recipe.dModel ? "MLPs (4·d_model)" : "MLPs \(width) wide"
    }

    public func markdown() -> String {
        let r = recipe, s = r.settings
        var md = """
        # \(r.name)

        \(r.summary). Trained by Mechanic itself; a GPT-2-format HF snapshot (config.json,
        model.safetensors, vocab.json, merges.txt) that Mechanic and HF transformers both load.

        ## How it was made

        ```sh
        \(command)
        ```

        | | |
        |---|---|
        | architecture | \(r.layers) layers × \(r.heads) heads, d_model \(r.dModel), context \(r.contextLength), \(mlpDescription) |
        | parameters | \(parameters.formatted()) (unembedding tied) |
        | vocabulary | \(r.vocabularySize) byte-level BPE tokens built from the corpus; names, places, objects and parameter names are single tokens, years split into two-digit halves |
        | corpus | synthetic, seed \(r.corpusSeed), \(r.trainingBytes / 1_000_000) MB: \(mixDescription()) |
        | held-out split | prompts whose FNV-1a hash puts them in one eighth of the space never appear in training text |
        | training | \(s.steps) steps of \(s.batchSize) × \(s.sequenceLength) tokens, AdamW (β 0.9/0.95, weight decay \(s.optimizer.weightDecay)), peak lr \(s.schedule.peak) with \(s.schedule.warmupSteps) warm-up steps then cosine to \(s.schedule.minimum), clip \(s.clipNorm), seed \(s.seed) |
        | wall time | \(String(format: "%.1f", trainingSeconds / 60)) minutes on 2 cores |
        | final loss | train \(String(format: "%.3f", finalLoss)), held-out \(finalHeldOutLoss.map { String(format: "%.3f", $0) } ?? "-") |

        ![loss curve](loss.svg)

        ## Held-out task scores

        | task | prompts | accuracy | mean metric |
        |---|---:|---:|---:|

        """
        for t in scores {
            md += "| \(t.task) | \(t.prompts) | \(String(format: "%.1f%%", 100 * t.accuracy)) | \(String(format: "%.3f", t.meanMetric)) (\(t.metric.rawValue)) |\n"
        }
        md += """

        Accuracy: every answer token outscores every wrong one (IOI: the indirect object beats the
        subject; docstring: the right parameter beats the signature's others; induction: the
        repeated word beats the run's others); greater-than: more probability on later years than
        on earlier ones.

        \(mechanismsMarkdown())## Ground-truth circuits\(roleCircuits == nil ? "" : ": greedy minimal sets (second ground truth, `circuits/<task>.minimal.json`)")

        Derived by `mechanic card` with Mechanic's own causal procedure: greedy backward elimination
        under mean ablation. Starting from every head, it repeatedly removes the head whose
        mean-ablation costs the task metric least, with all earlier removals in place, and stops
        when any further removal would leave less than the stated share of the full model's metric.
        Every removal is tested on the circuit as a whole, the ablation (mean) differs from the ones
        the scored methods use (resample, single-head), and the stopping rule is the faithfulness
        criterion itself. Roles come from head-type scores on repeated random runs (attention to
        the previous token, to the earlier copy, and to the token after it; ≥ 0.4).

        """
        for c in circuits {
            let f = c.faithfulness
            md += """
            ### \(c.task)

            \(c.heads.count) heads, kept ≥ \(String(format: "%.0f%%", 100 * c.retain)) of the metric on \(c.prompts) prompts
            (file: `circuits/\(c.task)\(roleCircuits == nil ? "" : ".minimal").json`).

            | | mean metric |
            |---|---:|
            | full model | \(String(format: "%.3f", f.fullModel)) |
            | circuit alone (every other head mean-ablated) | \(String(format: "%.3f", f.circuit)) (\(String(format: "%.0f%%", 100 * f.recovered))) |
            | complement (circuit heads ablated) | \(String(format: "%.3f", f.complement)) |
            | random \(c.heads.count)-head sets (mean of \(f.random.count)) | \(String(format: "%.3f", f.randomMean)) |

            | head | importance | role |
            |---|---:|---|

            """
            for h in c.heads.sorted(by: { $0.importance > $1.importance }) {
                md += "| \(h.head) | \(String(format: "%.3f", h.importance)) | \(h.role ?? "") |\n"
            }
            md += "\n"
        }
        md += stabilityMarkdown()
        return md
    }

    private func mixDescription() -> String {
        TaskFamilyKind.allCases.filter { recipe.mix.weight(of: $0) > 0 }.map { "\($0.rawValue) \(String(format: "%.0f%%", 100 * recipe.mix.probability(of: $0)))" }
            .joined(separator: ", ")
            + (recipe.repeatShare.map { String(format: " of the text documents, plus token-level repeated spans making up %.0f%% of all tokens", 100 * $0) } ?? "")
    }
}
