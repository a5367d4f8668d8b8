import MechanicModel
import MechanicTokenizer

/// The attention explorer's data: every head's pattern on a few prompts, run through the model.
public enum ReportExplorer {
    /// Runs each prompt alone and keeps every head's `[queryPos, keyPos]` pattern in thousandths.
    ///
    /// - Parameters:
    ///   - prompts: token ids of each prompt (BOS included when the run used one); longer prompts
    ///     are cut to `maxTokens` so the page stays small.
    ///   - tokenText: the text of a token id as the page shows it.
    /// - Throws: `ModelError` for prompts the model cannot run.
    public static func capture(model: Transformer, prompts: [[Int]], maxTokens: Int = 32,
                               tokenText: (Int) -> String) throws -> [ReportData.ExplorerPrompt] {
        let c = model.config
        let names = (0..<c.layers).map { HookName.pattern($0) }
        return try prompts.filter { !$0.isEmpty }.map { full in
            let row = Array(full.prefix(min(maxTokens, c.contextLength)))
            let out = try model.run(TokenBatch(row), logits: .none, capture: CaptureSpec(names: names))
            let t = row.count
            var patterns: [[Int]] = []
            for layer in 0..<c.layers {
                let pattern = out.cache[.pattern(layer)]!.storage           // [1, head, queryPos, keyPos]
                for head in 0..<c.heads {
                    var lower: [Int] = []
                    lower.reserveCapacity(t * (t + 1) / 2)
                    for i in 0..<t {
                        for j in 0...i { lower.append(Int((pattern[(head * t + i) * t + j] * 1000).rounded())) }
                    }
                    patterns.append(lower)
                }
            }
            return ReportData.ExplorerPrompt(tokens: row.map(tokenText), patterns: patterns)
        }
    }

    /// Each head's `count` strongest links over the prompts, leaving out key 0 (the first token,
    /// where most heads park attention they do not use: the sink section shows that mass). Ties go
    /// to the earlier prompt and position, so the choice is stable.
    public static func topAttention(_ prompts: [ReportData.ExplorerPrompt], layers: Int, heads: Int,
                                    count: Int = 3) -> [String: [ReportData.AttentionLink]] {
        var result: [String: [ReportData.AttentionLink]] = [:]
        for index in 0..<(layers * heads) {
            var links: [ReportData.AttentionLink] = []
            for (p, prompt) in prompts.enumerated() where index < prompt.patterns.count {
                let values = prompt.patterns[index]
                var k = 1                                                 // query 0's single entry is skipped
                for i in 1..<max(1, prompt.tokens.count) {
                    for j in 1...i {
                        links.append(ReportData.AttentionLink(prompt: p, from: i, to: j, weight: Double(values[k + j]) / 1000))
                    }
                    k += i + 1
                }
            }
            let best = links.enumerated().sorted { a, b in
                a.element.weight != b.element.weight ? a.element.weight > b.element.weight : a.offset < b.offset
            }.prefix(count).map(\.element)
            result["a\(index / heads).\(index % heads)"] = Array(best)
        }
        return result
    }
}
