import Foundation

/// Head scores from discrete codes (O'Neill & Bui 2024): a head matters for a task when it
/// produces codes on positive prompts that it never produces on negative ones.
///
/// Codes come as `[example][head]` integer tables (layer-major head order), one per prompt set.
public enum DiscreteCodeScoring {
    /// Node score of each head: `|codes on positives \ codes on negatives|`.
    public static func nodeScores(positive: [[Int]], negative: [[Int]]) -> [Float] {
        let heads = positive.first?.count ?? negative.first?.count ?? 0
        return (0..<heads).map { h in
            let onNegatives = Set(negative.map { $0[h] })
            return Float(Set(positive.map { $0[h] }).subtracting(onNegatives).count)
        }
    }

    /// A softmax over heads of raw scores, as the reference code normalises node scores.
    public static func softmax(_ scores: [Float]) -> [Float] {
        guard let top = scores.max() else { return [] }
        let e = scores.map { Foundation.exp(Double($0 - top)) }
        let total = e.reduce(0, +)
        return e.map { Float($0 / total) }
    }

    /// A pair of heads, `first < second` in layer-major order.
    public struct Pair: Hashable, Codable, Sendable {
        public let first: Int
        public let second: Int
    }

    /// Edge score of each head pair: the number of code pairs `(c₁, c₂)` that the two heads
    /// produce together on some positive example and on no negative example.
    ///
    /// Computed per pair with sorted, de-duplicated code-pair keys (never a dense heads² × codes²
    /// table), so memory is O(examples) per pair.
    public static func edgeScores(positive: [[Int]], negative: [[Int]], codes: Int) -> [Pair: Int] {
        let heads = positive.first?.count ?? 0
        var scores: [Pair: Int] = [:]
        var positiveKeys = [Int](), negativeKeys = [Int]()
        for a in 0..<heads {
            for b in (a + 1)..<heads {
                positiveKeys.removeAll(keepingCapacity: true)
                negativeKeys.removeAll(keepingCapacity: true)
                for row in positive { positiveKeys.append(row[a] * codes + row[b]) }
                for row in negative { negativeKeys.append(row[a] * codes + row[b]) }
                positiveKeys.sort()
                negativeKeys.sort()
                var count = 0, j = 0, previous = Int.min
                for key in positiveKeys where key != previous {
                    previous = key
                    while j < negativeKeys.count && negativeKeys[j] < key { j += 1 }
                    if j == negativeKeys.count || negativeKeys[j] != key { count += 1 }
                }
                scores[Pair(first: a, second: b)] = count
            }
        }
        return scores
    }

    /// Head scores from edges, by the reference's rule (`edge_circuit_prediction` in
    /// `src/edge.py`): list every *ordered* head pair `(a, b)`, self-pairs included (score 0; a pair
    /// and its mirror score the same), best first; walk the list writing down `a` then `b` for each
    /// pair; a head's score is how often it appears among the first `components` entries (the
    /// reference's `k`, heads² / 2).
    ///
    /// Ties: the reference sorts with NumPy's default `argsort`, whose order among equal scores is
    /// not specified (it depends on the NumPy version and CPU). Mechanic fixes it as a stable
    /// ascending sort reversed would: among equal scores, the larger flat index `a · heads + b` first.
    public static func nodeScoresFromEdges(_ edges: [Pair: Int], heads: Int, components: Int) -> [Float] {
        var flat = [Int](repeating: 0, count: heads * heads)              // [heads, heads], row-major
        for (pair, score) in edges {
            flat[pair.first * heads + pair.second] = score
            flat[pair.second * heads + pair.first] = score
        }
        return nodeScoresFromEdges(ordered: flat, heads: heads, components: components)
    }

    /// ``nodeScoresFromEdges(_:heads:components:)`` on the scores of every ordered pair,
    /// `ordered[a · heads + b]` (non-negative; the diagonal 0). Ranks by bucketing the integer
    /// scores, which is the same order as the sort, in time linear in heads².
    public static func nodeScoresFromEdges(ordered flat: [Int], heads: Int, components: Int) -> [Float] {
        precondition(flat.count == heads * heads, "one score per ordered pair")
        let top = flat.max() ?? 0
        var bucketSizes = [Int](repeating: 0, count: top + 1)
        for score in flat { bucketSizes[score] += 1 }
        // Buckets from the best score down; inside one, flat indices from the largest down.
        var bucketStart = [Int](repeating: 0, count: top + 1)
        var next = 0
        for score in stride(from: top, through: 0, by: -1) { bucketStart[score] = next; next += bucketSizes[score] }
        var ranked = [Int](repeating: 0, count: flat.count)
        for index in stride(from: flat.count - 1, through: 0, by: -1) {
            ranked[bucketStart[flat[index]]] = index
            bucketStart[flat[index]] += 1
        }
        var counts = [Float](repeating: 0, count: heads)
        var taken = 0
        for index in ranked {
            if taken >= components { break }
            counts[index / heads] += 1                                    // a
            taken += 1
            if taken >= components { break }
            counts[index % heads] += 1                                    // then b
            taken += 1
        }
        return counts
    }
}
