import Foundation
import MechanicCorpus
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// The canonical induction checks (Olsson et al. 2022) on `BOS + random prefix + R + R`, R drawn
/// from the whole vocabulary: induction and previous-token head scores, second-copy loss and
/// accuracy per run length, the effect of ablating the previous-token head, and where the
/// induction head looks on a third copy.
public enum InductionMechanism {
    public struct RunLength: Codable, Equatable, Sendable {
        public var length: Int
        /// Mean cross-entropy (nats) and accuracy predicting the second copy after its first token.
        public var secondCopyLoss: Float
        public var secondCopyAccuracy: Float
        /// Accuracy with the previous-token head mean-ablated (nil: no previous-token head before
        /// the induction head to ablate).
        public var ablatedAccuracy: Float?
    }

    public struct Report: Codable, Equatable, Sendable {
        public var heads: [HeadID]
        public var induction: [Float]
        public var previousToken: [Float]
        public var runs: [RunLength]
        public var offsets: [Int]
        public var sequencesPerCell: Int
        public var inductionHead: HeadID
        public var previousTokenHead: HeadID?
        /// The induction head's attention from the third copy to the most recent copy's next token, and to the oldest's.
        public var thirdCopyRecent: Float
        public var thirdCopyOldest: Float
        public var checks: [MechanismCheck]
        /// Per head, attention from second-copy position i to i − n + 2, one token past the
        /// induction target: the shifted circuit a 2-layer model learned in PyTorch (run e17 of
        /// `scripts/induction_recipe_pytorch.py`). Nil in reports made before it was measured.
        public var shiftedInduction: [Float]? = nil
        /// The head with the highest shifted score.
        public var shiftedInductionHead: HeadID? = nil
    }

    /// Runs the checks.
    ///
    /// - Parameters:
    ///   - lengths: run lengths n (10, 25, 50).
    ///   - offsets: random-prefix lengths (0…60).
    ///   - perCell: sequences per (length, offset).
    public static func measure(model: Transformer, tokenizer: any Tokenizer, lengths: [Int] = [10, 25, 50],
                               offsets: [Int] = [0, 15, 30, 45, 60], perCell: Int = 6, seed: UInt64 = 1) throws -> Report {
        let c = model.config
        let ids = RandomInductionTask.drawable(tokenizer: tokenizer)
        var rng = SeededRandom(seed: seed)
        let heads = HeadID.all(layers: c.layers, heads: c.heads)
        var induction = [Float](repeating: 0, count: heads.count), previous = induction, shifted = induction
        var inductionCount = 0, previousCount = 0
        var cells: [(n: Int, offset: Int, rows: [[Int]])] = []
        // Cells that do not fit the context are left out (and missing from `runs`).
        for n in lengths {
            for offset in offsets where 1 + offset + 2 * n <= c.contextLength {
                let rows = (0..<perCell).map { _ -> [Int] in
                    let prefix = (0..<offset).map { _ in rng.element(of: ids) }
                    let run = (0..<n).map { _ in rng.element(of: ids) }
                    return [tokenizer.bosID] + prefix + run + run
                }
                cells.append((n, offset, rows))
            }
        }
        // Head scores over every cell.
        for cell in cells {
            let t = cell.rows[0].count, start = 1 + cell.offset
            let cache = try model.run(TokenBatch(rows: cell.rows), logits: .none,
                                      capture: CaptureSpec(where: { $0.point == .pattern })).cache
            for layer in 0..<c.layers {
                let pattern = cache[.pattern(layer)]!.storage               // [batch, head, q, k]
                let secondCopy = (start + cell.n)..<t
                let ind = attentionSums(pattern, batch: cell.rows.count, heads: c.heads, positions: t, queries: secondCopy, back: cell.n - 1)
                let shift = attentionSums(pattern, batch: cell.rows.count, heads: c.heads, positions: t, queries: secondCopy, back: cell.n - 2)
                let prev = attentionSums(pattern, batch: cell.rows.count, heads: c.heads, positions: t, queries: 1..<t, back: 1)
                for h in 0..<c.heads {
                    induction[layer * c.heads + h] += ind[h]
                    shifted[layer * c.heads + h] += shift[h]
                    previous[layer * c.heads + h] += prev[h]
                }
            }
            inductionCount += cell.rows.count * cell.n
            previousCount += cell.rows.count * (t - 1)
        }
        induction = induction.map { $0 / Float(inductionCount) }
        shifted = shifted.map { $0 / Float(inductionCount) }
        previous = previous.map { $0 / Float(previousCount) }
        let best = induction.indices.max { induction[$0] < induction[$1] }!
        let inductionHead = heads[best]
        let bestShifted = shifted.indices.max { shifted[$0] < shifted[$1] }!
        let earlier = previous.indices.filter { heads[$0].layer < inductionHead.layer }
        let previousHead = earlier.max { previous[$0] < previous[$1] }.map { heads[$0] }

        // Second-copy loss and accuracy, clean and with the previous-token head mean-ablated.
        var runs: [RunLength] = []
        for n in lengths where cells.contains(where: { $0.n == n }) {
            var loss: Float = 0, correct = 0, ablatedCorrect = 0, total = 0
            for cell in cells where cell.n == n {
                let batch = TokenBatch(rows: cell.rows)
                let start = 1 + cell.offset
                let targets = (start + n)..<(start + 2 * n - 1)             // positions predicting copy-2 tokens 2…n
                let logits = try model.run(batch, logits: .all).logits!     // [batch, pos, vocab]
                var ablated: Tensor? = nil
                if let p = previousHead {
                    let z = try model.run(batch, logits: .none, capture: CaptureSpec(names: [.z(p.layer)])).cache[.z(p.layer)]!
                    let meanZ = meanOverBatchAndPositions(z)                // [batch, pos, head, dHead], every row the mean
                    ablated = try model.run(batch, logits: .all, interventions: [Intervention(.z(p.layer), heads: [p.head], .replace(meanZ))]).logits!
                }
                let t = cell.rows[0].count, v = c.vocabSize
                for b in 0..<cell.rows.count {
                    for q in targets {
                        let target = cell.rows[b][q + 1]
                        let row = Array(logits.storage[((b * t + q) * v)..<((b * t + q + 1) * v)])
                        let top = row.max()!
                        let lse = top + log(row.reduce(Float(0)) { $0 + exp($1 - top) })
                        loss += lse - row[target]
                        if row.indices.max(by: { row[$0] < row[$1] }) == target { correct += 1 }
                        if let ablated {
                            let arow = ablated.storage[((b * t + q) * v)..<((b * t + q + 1) * v)]
                            if arow.indices.max(by: { arow[$0] < arow[$1] }) == arow.startIndex + target { ablatedCorrect += 1 }
                        }
                        total += 1
                    }
                }
            }
            runs.append(RunLength(length: n, secondCopyLoss: loss / Float(total), secondCopyAccuracy: Float(correct) / Float(total),
                                  ablatedAccuracy: previousHead == nil ? nil : Float(ablatedCorrect) / Float(total)))
        }

        // Third copy: does the induction head follow the most recent copy?
        let n3 = 25
        let rows3 = (0..<(2 * perCell)).map { _ -> [Int] in
            let prefix = (0..<rng.below(31)).map { _ in rng.element(of: ids) }
            let run = (0..<n3).map { _ in rng.element(of: ids) }
            return [tokenizer.bosID] + prefix + run + run + run
        }
        var recent: Float = 0, oldest: Float = 0, count3 = 0
        for row in rows3 {
            let t = row.count, start = t - 3 * n3
            let pattern = try model.run(TokenBatch(rows: [row]), logits: .none,
                                        capture: CaptureSpec(names: [.pattern(inductionHead.layer)])).cache[.pattern(inductionHead.layer)]!.storage
            let base = inductionHead.head * t * t
            for q in (start + 2 * n3)..<(t - 1) {
                recent += pattern[base + q * t + q - n3 + 1]
                oldest += pattern[base + q * t + q - 2 * n3 + 1]
                count3 += 1
            }
        }
        recent /= Float(count3)
        oldest /= Float(count3)

        var checks: [MechanismCheck] = [
            MechanismCheck("best induction score", measured: Double(induction[best]), .atLeast, 0.4,
                           detail: String(format: "head %@; shifted (i − n + 2) best %.3f, head %@", inductionHead.description,
                                          shifted[bestShifted], heads[bestShifted].description)),
        ]
        for r in runs {
            checks.append(MechanismCheck("second-copy loss, n = \(r.length)", measured: Double(r.secondCopyLoss), .below, 1, detail: "nats"))
            if r.length <= 25 {
                checks.append(MechanismCheck("second-copy accuracy, n = \(r.length)", measured: Double(r.secondCopyAccuracy), .atLeast, 0.8))
            }
        }
        checks.append(MechanismCheck("earlier previous-token score", measured: Double(previousHead.map { previous[heads.firstIndex(of: $0)!] } ?? 0),
                                     .atLeast, 0.7, detail: previousHead.map { "head \($0), before \(inductionHead)" } ?? "no earlier layer"))
        let clean = runs.reduce(Float(0)) { $0 + $1.secondCopyAccuracy } / Float(max(1, runs.count))
        let ablatedMean = runs.reduce(Float(0)) { $0 + ($1.ablatedAccuracy ?? 0) } / Float(max(1, runs.count))
        // A cut of nothing is no evidence: below 20% clean accuracy the check measures 0, and so
        // it does with no previous-token head to ablate (an induction head in layer 0).
        let cut = previousHead != nil && clean >= 0.2 ? (clean - ablatedMean) / clean : 0
        checks.append(MechanismCheck("accuracy cut by ablating the previous-token head", measured: Double(cut), .above, 0.5,
                                     detail: previousHead == nil ? "no previous-token head before the induction head"
                                         : String(format: "mean accuracy %.3f → %.3f", clean, ablatedMean)))
        checks.append(MechanismCheck("third copy: attention to recent minus oldest copy", measured: Double(recent - oldest), .above, 0,
                                     detail: String(format: "recent %.3f, oldest %.3f", recent, oldest)))
        return Report(heads: heads, induction: induction, previousToken: previous, runs: runs, offsets: offsets, sequencesPerCell: perCell,
                      inductionHead: inductionHead, previousTokenHead: previousHead, thirdCopyRecent: recent, thirdCopyOldest: oldest,
                      checks: checks, shiftedInduction: shifted, shiftedInductionHead: heads[bestShifted])
    }

    /// Per head, the summed attention from each query position q to key q − `back`.
    ///
    /// - Parameters:
    ///   - pattern: attention probabilities `[batch, head, q, k]`, flattened.
    ///   - queries: query positions, each at least `back`.
    static func attentionSums(_ pattern: [Float], batch: Int, heads: Int, positions t: Int, queries: Range<Int>, back: Int) -> [Float] {
        (0..<heads).map { h in
            var sum: Float = 0
            for b in 0..<batch {
                let base = (b * heads + h) * t * t
                for q in queries { sum += pattern[base + q * t + q - back] }
            }
            return sum
        }
    }

    /// A tensor of `t`'s shape whose every [batch, pos] slice is the mean over batch and positions.
    static func meanOverBatchAndPositions(_ t: Tensor) -> Tensor {
        let inner = t.shape.dropFirst(2).reduce(1, *), outer = t.shape[0] * t.shape[1]
        var m = [Float](repeating: 0, count: inner)
        for o in 0..<outer { for i in 0..<inner { m[i] += t.storage[o * inner + i] } }
        for i in 0..<inner { m[i] /= Float(outer) }
        return Tensor(shape: t.shape, storage: (0..<(outer * inner)).map { m[$0 % inner] })
    }
}
