import Foundation
import MechanicCircuits

/// The model card's sections for reference models v2: canonical-mechanism checks, IOI name
/// scores, roles, the role-based ground truth, and circuit stability across prompt seeds.
extension ModelCard {
    func mechanismsMarkdown() -> String {
        guard let m = mechanisms else { return "" }
        var md = """
        ## Canonical mechanism checks

        Measured by `mechanic card` on held-out prompts; a check that fails shows its measured value
        and is not loosened. Induction: `BOS + random prefix + R + R` with R drawn from the whole
        vocabulary, n = \(m.induction.runs.map { String($0.length) }.joined(separator: ", ")), prefixes of
        \(m.induction.offsets.map(String.init).joined(separator: ", ")) tokens, \(m.induction.sequencesPerCell) sequences each.
        IOI: \(m.ioi.prompts) held-out corpus-v2 episodes with aligned ABC twins.

        | check | measured | bar | result | detail |
        |---|---:|---|---|---|

        """
        for c in m.checks {
            md += "| \(c.name) | \(String(format: "%.3f", c.measured)) | \(c.comparison.rawValue) \(c.threshold) | \(c.passed ? "pass" : "**not met**") | \(c.detail) |\n"
        }
        md += "\n| run length n | second-copy loss (nats) | accuracy | accuracy, \(m.induction.previousTokenHead.map(\.description) ?? "-") ablated |\n|---:|---:|---:|---:|\n"
        for r in m.induction.runs {
            md += "| \(r.length) | \(String(format: "%.3f", r.secondCopyLoss)) | \(String(format: "%.3f", r.secondCopyAccuracy)) | \(r.ablatedAccuracy.map { String(format: "%.3f", $0) } ?? "no head") |\n"
        }
        if let shifted = m.induction.shiftedInduction, let head = m.induction.shiftedInductionHead,
           let best = m.induction.heads.firstIndex(of: head), let textbook = m.induction.heads.firstIndex(of: m.induction.inductionHead) {
            md += "\nAttention from second-copy position i to i − n + 1 (the textbook induction target), best "
                + String(format: "%.3f", m.induction.induction[textbook]) + " (\(m.induction.inductionHead)), and to i − n + 2 (a circuit shifted "
                + "one token on), best " + String(format: "%.3f", shifted[best]) + " (\(head)).\n"
        }
        md += "\n| IOI prompts | IO top-1 among all names | mean IO − best other name | mean IO − S |\n|---|---:|---:|---:|\n"
        for s in m.ioi.names {
            md += "| \(s.distractor ? "complete IOI example first" : "plain") (\(s.prompts)) | \(String(format: "%.1f%%", 100 * s.topAmongNames)) | \(String(format: "%.3f", s.meanMarginOverNames)) | \(String(format: "%.3f", s.meanLogitDifference)) |\n"
        }
        let r = m.ioi.roles
        func list(_ heads: [HeadID]) -> String { heads.isEmpty ? "none" : heads.map(\.description).joined(separator: " ") }
        md += """

        IOI roles (thresholds in `IOIMechanism.roles`): duplicate-token \(list(r.duplicateToken)); induction at S2
        \(list(r.inductionAtS2)); S-inhibition \(list(r.sInhibition)); name movers \(list(r.nameMovers)); backup name movers
        \(list(r.backupNameMovers)); negative name movers \(list(r.negativeNameMovers)). Induction head \(m.induction.inductionHead),
        previous-token head \(m.induction.previousTokenHead.map(\.description) ?? "none").

        """
        md += "\n"
        guard let roleCircuits else { return md }
        md += """
        ## Ground-truth circuits: role-based (ground truth v2, `circuits/<task>.json`)

        A head belongs to a task's circuit for the role it plays, as in the literature: IOI, every head
        with an IOI role above; induction, the induction heads (attention to i − n + 1, or to i − n + 2 for a shifted circuit) and earlier previous-token heads (≥ 0.4);
        greater-than and docstring, whose papers define circuits by path patching, every head whose output
        patched from each prompt's aligned corrupted twin moves ≥ 5% of the metric. Faithfulness below is
        with every other head mean-ablated; why trust it: roles are measured on held-out prompts with
        aligned counterfactuals, and the stability table shows how much they move with the prompt sample.

        | task | heads | circuit alone | complement | random same-size sets | circuit |
        |---|---:|---:|---:|---:|---|

        """
        for c in roleCircuits {
            let f = c.faithfulness
            md += "| \(c.task) | \(c.heads.count) | \(String(format: "%.0f%%", 100 * f.recovered)) | \(String(format: "%.0f%%", f.fullModel == 0 ? 0 : 100 * f.complement / f.fullModel)) | \(String(format: "%.0f%%", f.fullModel == 0 ? 0 : 100 * f.randomMean / f.fullModel)) | \(list(c.heads.map(\.head))) |\n"
        }
        let insufficient = roleCircuits.filter { $0.faithfulness.recovered < 0.5 }.map(\.task)
        if !insufficient.isEmpty {
            md += "\nNot sufficient alone: \(insufficient.joined(separator: ", ")) keeps less than half of the metric with every "
                + "other head mean-ablated, so its role-based circuit names the heads with those roles, not all the heads the task "
                + "needs; the greedy minimal set below is the sufficient one.\n"
        }
        return md + "\n"
    }

    func stabilityMarkdown() -> String {
        guard let stability, !stability.isEmpty else { return "" }
        var md = """
        ## Stability across prompt seeds

        Each circuit derived again on other prompt samples (seeds \(stability[0].seeds.map(String.init).joined(separator: ", "))); mean pairwise
        Jaccard similarity of the head sets (1 = identical).

        | task | procedure | mean Jaccard | sizes |
        |---|---|---:|---|

        """
        for s in stability {
            md += "| \(s.task) | \(s.procedure) | \(String(format: "%.2f", s.meanJaccard)) | \(s.circuits.map { String($0.count) }.joined(separator: ", ")) |\n"
        }
        return md + "\n"
    }
}
