import MechanicTensor

/// Draws the corpus needs, defined here so the text never depends on the standard
/// library's `random(in:)` algorithm, which may change between Swift versions.
extension SeededRandom {
    /// A uniform integer in `0..<n` (`n` > 0; the modulo bias is below 2⁻⁵⁰ for corpus sizes).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "cannot draw from an empty range")
        return Int(next() % UInt64(n))
    }

    /// A uniform integer in `range` (not empty).
    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func unitInterval() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A uniformly chosen element of `items` (not empty).
    public mutating func element<T>(of items: [T]) -> T {
        items[below(items.count)]
    }

    /// `count` distinct elements of `items` in random order (partial Fisher–Yates).
    public mutating func distinct<T>(_ count: Int, of items: [T]) -> [T] {
        precondition(count <= items.count, "cannot draw \(count) distinct items from \(items.count)")
        var pool = items
        for i in 0..<count { pool.swapAt(i, i + below(pool.count - i)) }
        return Array(pool[0..<count])
    }
}
