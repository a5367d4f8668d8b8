import Foundation
import MechanicTensor

/// The label-permutation control of the discrete-SAE scores: a check on the method, not a tuning of it.
///
/// A head's SAE node score counts the codes it produces on positive prompts and never on negative
/// ones. A head that uses many distinct codes scores high whatever the labels are, so a score alone
/// cannot say whether the head tells positives from negatives. The control keeps every code (they
/// are computed once) and shuffles which prompts are called positive, `permutations` times with the
/// positive count fixed; each head's (and head pair's) score under the shuffles is its null
/// distribution. Reported per head: the observed score, the null mean and standard deviation
/// (population, over the permutations), `z = (observed − mean) / sd`, and the permutation p-value
/// `(1 + #{null ≥ observed}) / (permutations + 1)`. `sae-z` ranks heads by `z`: by association
/// with the label beyond code diversity.
///
/// A null whose scores never moved has sd 0; its z is taken with the smallest sd such a null can
/// have, √(K−1)/K (one of K permutations one code away), so z stays finite and ranks sensibly.
public enum LabelPermutation {
    public struct Options: Codable, Equatable, Sendable {
        /// Label permutations (0 turns the control off).
        public var permutations: Int = 200
        public var seed: UInt64 = 0

        public init(permutations: Int = 200, seed: UInt64 = 0) {
            self.permutations = permutations
            self.seed = seed
        }
    }

    /// One score against its null distribution.
    public struct Statistic: Codable, Equatable, Sendable {
        public var observed: Float
        public var nullMean: Float
        public var nullSD: Float
        public var z: Float
        public var p: Float

        public init(observed: Float, nullMean: Float, nullSD: Float, z: Float, p: Float) {
            (self.observed, self.nullMean, self.nullSD, self.z, self.p) = (observed, nullMean, nullSD, z, p)
        }

        /// The statistic of `observed` against null draws `null`.
        public init(observed: Float, null: [Float]) {
            let k = null.count
            let mean = null.reduce(0.0) { $0 + Double($1) } / Double(max(k, 1))
            let variance = null.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(k, 1))
            self.observed = observed
            nullMean = Float(mean)
            nullSD = Float(variance.squareRoot())
            z = Float((Double(observed) - mean) / Double(LabelPermutation.zDivisor(sd: nullSD, permutations: k)))
            p = Float(Double(1 + null.filter { $0 >= observed }.count) / Double(k + 1))
        }
    }

    /// What a z-score divides by: the null's sd, or when the null never moved, √(K−1)/K.
    public static func zDivisor(sd: Float, permutations k: Int) -> Float {
        sd > 0 ? sd : (k > 1 ? Float(Double(k - 1).squareRoot() / Double(k)) : 1)
    }

    /// A head pair's statistic (`first` before `second` in layer-major order).
    public struct PairStatistic: Codable, Equatable, Sendable {
        public var first: HeadID
        public var second: HeadID
        public var statistic: Statistic
    }

    /// The control of one head-scoring method: every head's statistic, and the method's ROC AUC
    /// under the shuffles when there is a ground truth.
    public struct HeadControl: Codable, Equatable, Sendable {
        public var permutations: Int
        public var seed: UInt64
        public var heads: [Statistic]
        /// Each head's score under each permutation, `[permutations][heads]` (not encoded: large).
        public var nullScores: [[Float]] = []
        public var shuffledAUC: ShuffledAUC?

        private enum CodingKeys: String, CodingKey { case permutations, seed, heads, shuffledAUC }

        public init(permutations: Int, seed: UInt64, heads: [Statistic], nullScores: [[Float]] = [], shuffledAUC: ShuffledAUC? = nil) {
            self.permutations = permutations
            self.seed = seed
            self.heads = heads
            self.nullScores = nullScores
            self.shuffledAUC = shuffledAUC
        }

        /// Sets ``shuffledAUC`` from the null scores, against `truth` (one label per head), beside
        /// the real AUC `observed`.
        public mutating func evaluate(observed: Double, truth: [Bool]) {
            let aucs = nullScores.compactMap { CircuitEvaluation.rocAUC(scores: $0, labels: truth) }
            guard !aucs.isEmpty else { return }
            shuffledAUC = ShuffledAUC(observed: observed, shuffled: aucs)
        }
    }

    /// A method's ROC AUC with the true labels beside its AUC under shuffled labels.
    public struct ShuffledAUC: Codable, Equatable, Sendable {
        /// Mean and population sd of the AUC over the permutations.
        public var mean: Double
        public var sd: Double
        /// Whether the real AUC lies within 2 sd of the shuffled mean: the score then does not
        /// depend on the labels as far as this control can tell.
        public var withinNoise: Bool

        public init(mean: Double, sd: Double, withinNoise: Bool) {
            (self.mean, self.sd, self.withinNoise) = (mean, sd, withinNoise)
        }

        public init(observed: Double, shuffled: [Double]) {
            let n = Double(shuffled.count)
            mean = shuffled.reduce(0, +) / n
            let m = mean
            sd = (shuffled.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
            withinNoise = abs(observed - mean) <= 2 * sd
        }
    }

    /// Positive-label sets of the permutations, as bitsets `[permutations][words]` over the
    /// examples (positives first, then negatives): each a seeded Fisher–Yates shuffle of the true
    /// labels, so every set has exactly `positives` members.
    public static func shuffledLabels(positives: Int, negatives: Int, options: Options) -> [[UInt64]] {
        let n = positives + negatives, words = (n + 63) / 64
        var rng = SeededRandom(seed: options.seed)
        var labels = (0..<n).map { $0 < positives }
        return (0..<max(0, options.permutations)).map { _ in
            for i in stride(from: n - 1, to: 0, by: -1) { labels.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var bits = [UInt64](repeating: 0, count: words)
            for i in 0..<n where labels[i] { bits[i >> 6] |= 1 << UInt64(i & 63) }
            return bits
        }
    }

    /// The true labels as a bitset: the first `positives` examples.
    static func trueLabels(positives: Int, negatives: Int) -> [UInt64] {
        var bits = [UInt64](repeating: 0, count: (positives + negatives + 63) / 64)
        for i in 0..<positives { bits[i >> 6] |= 1 << UInt64(i & 63) }
        return bits
    }

    /// The examples grouped by their code (or code pair): a group scores when every member is
    /// called positive, which is "a code only positives produce".
    ///
    /// Stored for speed under many label sets: the one-member groups as a bitset (their count is a
    /// popcount), the larger groups as member lists (checked until the first negative).
    struct Grouping {
        var singletons: [UInt64]
        /// Members of the groups with two or more, group after group; `starts` has one more entry than groups.
        var members: [Int32] = []
        var starts: [Int] = [0]

        /// Groups `keys` (one per example; equal keys share a group), using `slots` (length ≥ the
        /// largest key + 1, all −1 on entry and on return) as scratch.
        init(keys: [Int], slots: inout [Int32]) {
            let n = keys.count
            singletons = [UInt64](repeating: 0, count: (n + 63) / 64)
            var groupOf = [Int32](repeating: 0, count: n), sizes: [Int32] = []
            for (i, key) in keys.enumerated() {
                if slots[key] < 0 { slots[key] = Int32(sizes.count); sizes.append(0) }
                groupOf[i] = slots[key]
                sizes[Int(slots[key])] += 1
            }
            for key in keys { slots[key] = -1 }
            // Large groups get consecutive slots in `members`.
            var offset = [Int](repeating: -1, count: sizes.count)
            for (g, size) in sizes.enumerated() where size > 1 {
                offset[g] = starts.last!
                starts.append(starts.last! + Int(size))
            }
            members = [Int32](repeating: 0, count: starts.last!)
            var fill = offset
            for i in 0..<n {
                let g = Int(groupOf[i])
                if sizes[g] == 1 { singletons[i >> 6] |= 1 << UInt64(i & 63) }
                else { members[fill[g]] = Int32(i); fill[g] += 1 }
            }
        }

        /// Groups all of whose members are in `positive` (a bitset over the examples).
        func score(_ positive: [UInt64]) -> Int {
            var count = 0
            for w in 0..<singletons.count { count += (singletons[w] & positive[w]).nonzeroBitCount }
            for g in 0..<(starts.count - 1) {
                var all = true
                for m in starts[g]..<starts[g + 1] {
                    let i = Int(members[m])
                    if positive[i >> 6] & (1 << UInt64(i & 63)) == 0 { all = false; break }
                }
                if all { count += 1 }
            }
            return count
        }
    }

    /// Node scores (codes only positives produce) of every head under the true labels and under
    /// each shuffle: `(observed [heads], null [permutations][heads])`.
    ///
    /// - Parameters:
    ///   - positive, negative: codes `[example][head]`.
    ///   - codes: the code alphabet's size (every code is below it).
    public static func nodeScores(positive: [[Int]], negative: [[Int]], codes: Int,
                                  labels: [[UInt64]]) -> (observed: [Float], null: [[Float]]) {
        let heads = positive.first?.count ?? negative.first?.count ?? 0
        let examples = positive + negative
        let truth = trueLabels(positives: positive.count, negatives: negative.count)
        var slots = [Int32](repeating: -1, count: codes)
        var observed = [Float](repeating: 0, count: heads)
        var null = [[Float]](repeating: [Float](repeating: 0, count: heads), count: labels.count)
        for h in 0..<heads {
            let grouping = Grouping(keys: examples.map { $0[h] }, slots: &slots)
            observed[h] = Float(grouping.score(truth))
            for k in labels.indices { null[k][h] = Float(grouping.score(labels[k])) }
        }
        return (observed, null)
    }

    /// Pair scores (code pairs only positives produce) of every head pair `a < b` under the true
    /// labels and under each shuffle, as flat `[pairs]` and `[pairs][permutations]` in the order
    /// (0,1), (0,2), …, (1,2), …; on all cores.
    public static func pairScores(positive: [[Int]], negative: [[Int]], codes: Int,
                                  labels: [[UInt64]]) -> (observed: [Int32], null: [[Int32]]) {
        let heads = positive.first?.count ?? negative.first?.count ?? 0
        let examples = positive + negative
        let truth = trueLabels(positives: positive.count, negatives: negative.count)
        let pairs = heads * (heads - 1) / 2
        var firsts = [Int](), seconds = [Int]()
        firsts.reserveCapacity(pairs)
        seconds.reserveCapacity(pairs)
        for a in 0..<heads { for b in (a + 1)..<max(a + 1, heads) { firsts.append(a); seconds.append(b) } }
        let perms = labels.count
        var observed = [Int32](repeating: 0, count: pairs)
        var flatNull = [Int32](repeating: 0, count: pairs * perms)               // [pairs, permutations]
        observed.withUnsafeMutableBufferPointer { obs in
            flatNull.withUnsafeMutableBufferPointer { out in
                let (o, nb) = (obs.baseAddress!, out.baseAddress!)
                Kernels.parallelFor(pairs, minimumChunk: 64) { range in
                    var slots = [Int32](repeating: -1, count: codes * codes)
                    var keys = [Int](repeating: 0, count: examples.count)
                    for p in range {
                        let (a, b) = (firsts[p], seconds[p])
                        for (i, row) in examples.enumerated() { keys[i] = row[a] * codes + row[b] }
                        let grouping = Grouping(keys: keys, slots: &slots)
                        o[p] = Int32(grouping.score(truth))
                        for k in 0..<perms { nb[p * perms + k] = Int32(grouping.score(labels[k])) }
                    }
                }
            }
        }
        let null = (0..<pairs).map { Array(flatNull[($0 * perms)..<(($0 + 1) * perms)]) }
        return (observed, null)
    }
}
