import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// The canonical IOI checks (Wang et al. 2022) on held-out corpus-v2 IOI prompts with aligned
/// ABC twins: head-type attention scores at the IOI positions, direct logit attribution, the
/// roles they imply (duplicate-token, S-inhibition, name mover, negative and backup name mover,
/// induction at S2), and the path-patched effect of the S-inhibition heads through the name
/// movers' queries.
public enum IOIMechanism {
    /// Per-head scores, in `HeadID.all` order.
    public struct HeadScores: Codable, Equatable, Sendable {
        public var heads: [HeadID]
        /// Attention S2 → S1.
        public var duplicateToken: [Float]
        /// Attention S2 → the token after S1 (the IOI paper's induction heads).
        public var inductionAtS2: [Float]
        /// Attention END → S2 on clean prompts, and END → the same position on ABC twins.
        public var endToS2: [Float]
        public var endToS2OnABC: [Float]
        /// Attention END → IO and END → S1.
        public var endToIO: [Float]
        public var endToS1: [Float]
        /// Attention END → the token after IO and END → the token after S1: a head that reads a
        /// name from the previous-token head's copy of it one position later, as the shifted
        /// induction head (i − n + 2) reads a copied token. Diagnostic only, never a role or a
        /// check; nil in cards written before it was measured.
        public var endToAfterIO: [Float]? = nil
        public var endToAfterS1: [Float]? = nil
        /// Direct logit attribution to IO − S at END (through the final norm's scale).
        public var directIOMinusS: [Float]
        /// Share of the logit difference lost when the head alone is patched from the ABC twin.
        public var patchEffect: [Float]
    }

    /// Heads by role, labelled from the scores with the thresholds in `roles(_:)`.
    public struct Roles: Codable, Equatable, Sendable {
        public var duplicateToken: [HeadID]
        public var inductionAtS2: [HeadID]
        public var sInhibition: [HeadID]
        public var nameMovers: [HeadID]
        public var backupNameMovers: [HeadID]
        public var negativeNameMovers: [HeadID]

        /// Every head with a role, sorted.
        public var all: [HeadID] {
            Array(Set(duplicateToken + inductionAtS2 + sInhibition + nameMovers + backupNameMovers + negativeNameMovers)).sorted()
        }
    }

    public struct Report: Codable, Equatable, Sendable {
        public var prompts: Int
        public var scores: HeadScores
        public var roles: Roles
        public var names: [IOINameScore]
        public var sInhibitionThroughNameMoverQueries: PathPatching.Effect?
        /// When no head meets the name-mover role but some back it up: the same path patching
        /// into the backup name movers' queries. Reported beside the check, never as it.
        public var sInhibitionThroughBackupQueries: PathPatching.Effect?
        public var checks: [MechanismCheck]
    }

    /// Positions of S1, S2, IO and END in a clean prompt whose IO and S are single tokens.
    struct Positions { var s1: Int, s2: Int, io: Int, end: Int }

    static func positions(_ p: TaskPrompt) -> Positions? {
        let io = p.answers[0], s = p.wrongAnswers[0], t = p.tokens
        guard let s1 = t.firstIndex(of: s), let s2 = t.lastIndex(of: s), s2 > s1, let i = t.firstIndex(of: io) else { return nil }
        return Positions(s1: s1, s2: s2, io: i, end: t.count - 1)
    }

    /// Measures the scores, labels roles and runs the checks on `count` held-out prompts.
    public static func measure(model: Transformer, tokenizer: any Tokenizer, count: Int = 96, seed: UInt64 = 1) throws -> Report {
        let c = model.config
        let heads = HeadID.all(layers: c.layers, heads: c.heads)
        let prompts = try IOIStoryTask().dataset(tokenizer: tokenizer, count: count, seed: seed, prependBOS: true).positives
            .filter { positions($0) != nil && $0.tokens.count <= c.contextLength }
        let found = prompts.map { positions($0)! }
        var dup = [Float](repeating: 0, count: heads.count)
        var ind = dup, endS2 = dup, endS2ABC = dup, endIO = dup, endS1 = dup, afterIO = dup, afterS1 = dup, direct = dup
        let unembed = model.weights.unembeddingMatrix.storage          // [vocab, dModel]
        let gain = model.weights.finalNormGain.storage
        let d = c.dModel
        for start in stride(from: 0, to: prompts.count, by: 32) {
            let range = start..<min(prompts.count, start + 32)
            let part = Array(prompts[range]), where_ = Array(found[range])
            let batch = TokenBatch(rows: part.map(\.tokens))
            let t = batch.positions
            let cache = try model.run(batch, logits: .none, capture: CaptureSpec(where: {
                $0.point == .pattern || $0.point == .result || $0.point == .lnFinalScale })).cache
            let abc = try model.run(TokenBatch(rows: part.map { $0.corruptedTokens! }), logits: .none,
                                    capture: CaptureSpec(where: { $0.point == .pattern })).cache
            let scale = cache[HookName(.lnFinalScale, layer: nil)]!.storage  // [batch, pos, 1]
            for layer in 0..<c.layers {
                let pattern = cache[.pattern(layer)]!.storage, abcPattern = abc[.pattern(layer)]!.storage
                let result = cache[.result(layer)]!.storage                    // [batch, pos, head, dModel]
                for h in 0..<c.heads {
                    let i = layer * c.heads + h
                    for (b, p) in where_.enumerated() {
                        let base = (b * c.heads + h) * t * t
                        dup[i] += pattern[base + p.s2 * t + p.s1]
                        ind[i] += pattern[base + p.s2 * t + p.s1 + 1]
                        endS2[i] += pattern[base + p.end * t + p.s2]
                        endS2ABC[i] += abcPattern[base + p.end * t + p.s2]
                        endIO[i] += pattern[base + p.end * t + p.io]
                        endS1[i] += pattern[base + p.end * t + p.s1]
                        afterIO[i] += pattern[base + p.end * t + p.io + 1]
                        afterS1[i] += pattern[base + p.end * t + p.s1 + 1]
                        let r = ((b * t + p.end) * c.heads + h) * d
                        var m: Float = 0
                        for k in 0..<d { m += result[r + k] }
                        m /= Float(d)
                        let io = part[b].answers[0], s = part[b].wrongAnswers[0]
                        var dla: Float = 0
                        for k in 0..<d { dla += (result[r + k] - m) * gain[k] * (unembed[io * d + k] - unembed[s * d + k]) }
                        direct[i] += dla / scale[b * t + p.end]
                    }
                }
            }
        }
        let n = Float(max(1, prompts.count))
        func avg(_ v: [Float]) -> [Float] { v.map { $0 / n } }
        let scores = HeadScores(heads: heads, duplicateToken: avg(dup), inductionAtS2: avg(ind), endToS2: avg(endS2), endToS2OnABC: avg(endS2ABC),
                                endToIO: avg(endIO), endToS1: avg(endS1), endToAfterIO: avg(afterIO), endToAfterS1: avg(afterS1),
                                directIOMinusS: avg(direct),
                                patchEffect: try PathPatching.headEffects(model: model, prompts: prompts, metric: .logitDifference))
        let roles = roles(scores)
        var effect: PathPatching.Effect? = nil, backupEffect: PathPatching.Effect? = nil
        if !roles.sInhibition.isEmpty, !roles.nameMovers.isEmpty {
            effect = try PathPatching.senderToReceiverQueries(model: model, prompts: prompts, metric: .logitDifference,
                                                              senders: roles.sInhibition, receivers: roles.nameMovers)
        } else if !roles.sInhibition.isEmpty, !roles.backupNameMovers.isEmpty {
            backupEffect = try PathPatching.senderToReceiverQueries(model: model, prompts: prompts, metric: .logitDifference,
                                                                    senders: roles.sInhibition, receivers: roles.backupNameMovers)
        }
        let names = try [false, true].map { try IOINameScore.evaluate(model: model, tokenizer: tokenizer, count: 200, seed: seed &+ 10, distractor: $0) }
        return Report(prompts: prompts.count, scores: scores, roles: roles, names: names, sInhibitionThroughNameMoverQueries: effect,
                      sInhibitionThroughBackupQueries: backupEffect,
                      checks: checks(scores: scores, roles: roles, names: names, effect: effect, backupEffect: backupEffect))
    }

    /// Role thresholds: attention ≥ 0.3 for duplicate-token (S2 → S1), induction (S2 → S1+1) and
    /// S-inhibition (END → S2, higher than on ABC twins, in a later layer than some duplicate-token
    /// head); name movers attend END → IO ≥ 0.4 with at least 3× their END → S1 attention and
    /// write IO positively; backup name movers attend END → IO ≥ 0.2 and write IO positively;
    /// negative name movers attend END → IO ≥ 0.2 and write it negatively.
    public static func roles(_ s: HeadScores) -> Roles {
        let idx = s.heads.indices
        let dup = idx.filter { s.duplicateToken[$0] >= 0.3 }
        let firstDup = dup.map { s.heads[$0].layer }.min() ?? Int.max
        let sInh = idx.filter { s.endToS2[$0] >= 0.3 && s.endToS2[$0] > s.endToS2OnABC[$0] && s.heads[$0].layer > firstDup }
        let nm = idx.filter { s.endToIO[$0] >= 0.4 && s.endToIO[$0] >= 3 * s.endToS1[$0] && s.directIOMinusS[$0] > 0 }
        let backup = idx.filter { !nm.contains($0) && s.endToIO[$0] >= 0.2 && s.directIOMinusS[$0] > 0 }
        let negative = idx.filter { s.endToIO[$0] >= 0.2 && s.directIOMinusS[$0] < 0 }
        return Roles(duplicateToken: dup.map { s.heads[$0] }, inductionAtS2: idx.filter { s.inductionAtS2[$0] >= 0.3 }.map { s.heads[$0] },
                     sInhibition: sInh.map { s.heads[$0] }, nameMovers: nm.map { s.heads[$0] },
                     backupNameMovers: backup.map { s.heads[$0] }, negativeNameMovers: negative.map { s.heads[$0] })
    }

    /// The checks; `backupEffect` (path patching into the backup name movers when there is no
    /// name mover) only adds to the detail of the path-patching check, whose measured value stays 0.
    static func checks(scores s: HeadScores, roles: Roles, names: [IOINameScore], effect: PathPatching.Effect?,
                       backupEffect: PathPatching.Effect? = nil) -> [MechanismCheck] {
        var out: [MechanismCheck] = []
        for score in names {
            out.append(MechanismCheck("IO top-1 among all names" + (score.distractor ? ", distractor example first" : ""),
                                      measured: score.topAmongNames, .atLeast, 0.9,
                                      detail: String(format: "mean IO − best other name %.2f", score.meanMarginOverNames)))
        }
        let bestDup = s.heads.indices.max { s.duplicateToken[$0] < s.duplicateToken[$1] }!
        out.append(MechanismCheck("best duplicate-token score (S2 → S1)", measured: Double(s.duplicateToken[bestDup]), .atLeast, 0.3,
                                  detail: "head \(s.heads[bestDup])"))
        let laterThanDup = s.heads.indices.filter { s.heads[$0].layer > s.heads[bestDup].layer }
        let bestSInh = laterThanDup.max { s.endToS2[$0] < s.endToS2[$1] }
        out.append(MechanismCheck("best S-inhibition score (END → S2) after a duplicate-token head",
                                  measured: Double(bestSInh.map { s.endToS2[$0] } ?? 0), .atLeast, 0.3,
                                  detail: bestSInh.map { String(format: "head %@; %.3f on ABC twins", s.heads[$0].description, s.endToS2OnABC[$0]) } ?? "no later layer"))
        out.append(MechanismCheck("that head's END → S2 attention, clean minus ABC twins",
                                  measured: Double(bestSInh.map { s.endToS2[$0] - s.endToS2OnABC[$0] } ?? 0), .above, 0,
                                  detail: "an S-inhibition head attends to S2 because it is a repeated name, so less on ABC"))
        func heads(_ h: [HeadID]) -> String { h.map(\.description).joined(separator: " ") }
        let pathDetail: String
        if effect != nil {
            pathDetail = "senders \(heads(roles.sInhibition)), receivers \(heads(roles.nameMovers))"
        } else if let backup = backupEffect {
            pathDetail = String(format: "no name-mover head (END → IO ≥ 0.4 and ≥ 3× END → S1); into the backup name movers' queries instead "
                                + "(senders %@, receivers %@) the share is %.3f", heads(roles.sInhibition), heads(roles.backupNameMovers), backup.share)
        } else {
            pathDetail = "no S-inhibition or no name-mover head to patch between"
        }
        out.append(MechanismCheck("S-inhibition → name-mover queries, share of the logit difference",
                                  measured: Double(effect?.share ?? 0), .atLeast, 0.2, detail: pathDetail))
        let nmCandidates = s.heads.indices.filter { s.directIOMinusS[$0] > 0 }
        let bestNM = nmCandidates.max { s.endToIO[$0] < s.endToIO[$1] }
        var nmDetail = bestNM.map { "head \(s.heads[$0])" } ?? "no head writes IO"
        if let afterIO = s.endToAfterIO, let afterS1 = s.endToAfterS1, let best = s.heads.indices.max(by: { afterIO[$0] < afterIO[$1] }) {
            nmDetail += String(format: "; after-name (END → IO+1) best %.3f, head %@, %.3f to S1+1", afterIO[best], s.heads[best].description, afterS1[best])
        }
        out.append(MechanismCheck("best name-mover attention to IO", measured: Double(bestNM.map { s.endToIO[$0] } ?? 0), .atLeast, 0.4,
                                  detail: nmDetail))
        out.append(MechanismCheck("that name mover's IO / S1 attention ratio",
                                  measured: Double(bestNM.map { s.endToIO[$0] / max(s.endToS1[$0], 1e-6) } ?? 0), .atLeast, 3))
        return out
    }
}
