import Foundation
import MechanicCircuits
import MechanicSinks
import MechanicTasks

extension ReportData {
    /// The task section of a discovery report, with the first prompts as text.
    ///
    /// - Parameter answerText: the text of an answer token, to show beside each prompt.
    public static func task(_ report: DiscoveryReport, prompts: [TaskPrompt], answerText: ((Int) -> String)? = nil) -> TaskSummary {
        TaskSummary(name: report.task, metric: report.metric.rawValue, positives: report.positives, negatives: report.negatives,
             droppedPositives: report.droppedPositives, groundTruth: (report.groundTruth ?? []).sorted().map(\.description),
             prompts: prompts.prefix(promptLimit).map { prompt in
                 Prompt(text: prompt.text, answer: answerText.flatMap { text in prompt.answers.first.map(text) },
                        corrupted: prompt.corruptedText)
             })
    }

    /// One row per head-level method: its evaluation, every head's score, its ROC curve and circuit.
    public static func methods(_ report: DiscoveryReport, layers: Int, heads: Int) -> [Method] {
        let truth = Set(report.groundTruth ?? [])
        return report.methods.map { result in
            let s = result.scores
            var grid = [Double?](repeating: nil, count: layers * heads)
            for (head, score) in zip(s.heads, s.scores) where head.layer < layers && head.head < heads {
                grid[head.layer * heads + head.head] = finite(Double(score))
            }
            let finiteScores = s.scores.map { $0.isFinite ? $0 : -.greatestFiniteMagnitude }
            let roc = truth.isEmpty ? [] : CircuitEvaluation.rocCurve(scores: finiteScores, labels: s.heads.map { truth.contains($0) })
                .map { [rounded($0.fpr), rounded($0.tpr)] }
            let circuit = CircuitEvaluation.topHeads(scores: finiteScores, heads: s.heads, k: truth.isEmpty ? min(10, s.heads.count) : truth.count)
            let shuffled = result.control?.shuffledAUC.map { [rounded($0.mean), rounded($0.sd)] }
            return Method(name: s.method, auc: result.auc.flatMap(finite), shuffledAUC: shuffled,
                          precision: result.match.map(\.precision), recall: result.match.map(\.recall), f1: result.match.map(\.f1),
                          faithfulness: result.faithfulness.flatMap { finite(Double($0.recovered)) }, seconds: rounded(s.seconds),
                          scores: grid, roc: roc, circuit: circuit.map(\.description))
        }
    }

    /// Roles and head-type scores by head name: roles from the ground-truth file's heads, else the
    /// strongest head type (as ``HeadTypes/Scores/roles(threshold:)`` picks it).
    public static func headInfo(types: HeadTypes.Scores?, circuit: GroundTruth.Circuit?) -> [String: HeadInfo] {
        var info: [String: HeadInfo] = [:]
        let typeRoles = types?.roles() ?? [:]
        if let types {
            for (i, head) in types.heads.enumerated() {
                info[head.description] = HeadInfo(role: typeRoles[head], types: [
                    "previous token": rounded(Double(types.previousToken[i])),
                    "duplicate token": rounded(Double(types.duplicateToken[i])),
                    "induction": rounded(Double(types.induction[i])),
                ])
            }
        }
        for head in circuit?.heads ?? [] {
            var entry = info[head.head.description] ?? HeadInfo(role: nil, types: [:])
            if let role = head.role { entry.role = role }
            entry.types["importance in ground truth"] = rounded(Double(head.importance))
            info[head.head.description] = entry
        }
        return info
    }

    /// An edge-level run seen at the level of heads: each method's edge-derived head scores
    /// (``ScoredGraph/nodeScores()``) with their AUC, and precision and recall of the top
    /// |ground truth| heads, so edge runs get the same table, ROC curves and heat maps.
    public static func headLevel(_ report: EdgeDiscoveryReport, positives: Int) -> DiscoveryReport {
        let truth = Set(report.groundTruth ?? [])
        return DiscoveryReport(task: report.task, metric: report.metric, positives: positives, negatives: 0,
                               groundTruth: report.groundTruth, methods: report.methods.map { m in
                                   let scores = report.scored(m).nodeScores()
                                   var result = DiscoveryReport.MethodResult(scores: scores, auc: m.nodeAUC)
                                   if !truth.isEmpty {
                                       let top = CircuitEvaluation.topHeads(scores: scores.scores, heads: scores.heads, k: truth.count)
                                       result.match = CircuitEvaluation.match(predicted: Set(top), truth: truth)
                                   }
                                   return result
                               })
    }

    /// The edge-level section: each method's runtime, node AUC and faithfulness curve with CPR and CMD.
    public static func edges(_ report: EdgeDiscoveryReport) -> Edges {
        Edges(ablation: report.ablation.rawValue, prompts: report.prompts, edgeCount: report.graph.edges.count,
              methods: report.methods.map { m in
                  let curve = m.curve
                  return EdgeMethod(name: m.method, seconds: rounded(m.seconds), nodeAUC: m.nodeAUC.flatMap(finite),
                                    cpr: curve.flatMap { finite($0.cpr()) }, cmd: curve.flatMap { finite($0.cmd()) },
                                    curve: curve.map { c in
                                        c.fractions.indices.compactMap { i in
                                            finite(c.faithfulness[i]).map { [c.fractions[i], Double(c.edgeCounts[i]), $0] }
                                        }
                                    } ?? [])
              })
    }

    /// The sink section: per-head statistics of every BOS setting and the commonest hidden-sink tokens.
    public static func sinks(_ analysis: SinkAnalysis, source: String) -> Sinks {
        var heads: [SinkHead] = []
        for v in analysis.variants {
            for layer in 0..<v.layers {
                for head in 0..<v.heads {
                    heads.append(SinkHead(head: "a\(layer).\(head)", bos: v.bosPrepended,
                                          firstTokenMass: rounded(v.firstTokenMass[layer][head]),
                                          firstTokenSinkRate: rounded(v.firstTokenSinkRate[layer][head]),
                                          entropy: rounded(v.entropy[layer][head]), hiddenSinks: v.hiddenSinkCounts[layer][head]))
                }
            }
        }
        let first = analysis.variants.first
        let tokens = (first?.hiddenSinkTokens ?? []).prefix(12).map { [$0.token, String($0.sinkEvents), String($0.occurrences)] }
        return Sinks(source: source, prompts: first?.promptCount ?? 0, minimumObservers: first?.thresholds.minimumObservers ?? 0,
                     minimumLift: first?.thresholds.minimumLift ?? 0, heads: heads, tokens: tokens)
    }

    /// `x` to 4 significant decimals, so the blob does not depend on the last bits of a float.
    static func rounded(_ x: Double) -> Double {
        guard x.isFinite else { return x }
        return (x * 10_000).rounded() / 10_000
    }

    /// `x` rounded, or nil when it is NaN or infinite (JSON has no such numbers).
    static func finite(_ x: Double) -> Double? { x.isFinite ? rounded(x) : nil }
}
