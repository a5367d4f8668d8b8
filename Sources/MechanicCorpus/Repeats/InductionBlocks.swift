import MechanicTensor

/// The training data of the PyTorch run that learned in-context copying (run e17 of
/// `scripts/induction_recipe_pytorch.py`, layout `mixed`, `--aux-frac 0.25`): packed blocks of
/// random tokens, each `SEP + prefix + R + gap + R` with R repeated after a random gap, and a
/// share of blocks that follow a fixed skip-bigram rule instead.
///
/// The random gaps stop the copying heads from learning a fixed look-back; the skip-bigram
/// blocks (`x[t+1] = P[x[t-1]]`, P a seeded permutation) give a previous-token head a reason to
/// exist on its own. Block sizes follow the training window (spans up to a third of it), so a
/// length curriculum asks for rows of the window it is at. Tokens are made here rather than
/// text: a vocabulary of bytes plus `<|endoftext|>` as the separator, as in e17.
public struct InductionBlocks: Codable, Equatable, Sendable {
    /// Token ids `0..<separator` are drawn; `separator` starts every block (BOS/EOS).
    public var separator: Int
    /// Span lengths R before the window caps them (`min(5, L/4)...min(40, L/3)` in a window of L).
    public var spanLengths: ClosedRange<Int>
    /// Random tokens between `SEP` and the first copy (capped at L/4).
    public var prefixLengths: ClosedRange<Int>
    /// Share of copy blocks with a gap of random tokens between the two copies.
    public var gapShare: Double
    /// Gap lengths when there is one (capped at L/2).
    public var gapLengths: ClosedRange<Int>
    /// Share of blocks that follow the skip-bigram rule instead of repeating a span.
    public var skipBigramShare: Double
    /// Lengths the skip-bigram blocks grow towards (without their `SEP`).
    public var skipBigramLengths: ClosedRange<Int>
    /// Random extra tokens (0...`phase`) generated before a row is cut, so blocks start anywhere in it.
    public var phase: Int
    /// Seed of the skip-bigram permutation.
    public var permutationSeed: UInt64

    /// e17's settings with a 256-token alphabet: spans 5–40, prefixes 0–20, half the copy blocks
    /// with a gap of 0–30 tokens, a quarter of all blocks skip-bigram (10–40 tokens).
    public init(separator: Int = 256, spanLengths: ClosedRange<Int> = 5...40, prefixLengths: ClosedRange<Int> = 0...20,
                gapShare: Double = 0.5, gapLengths: ClosedRange<Int> = 0...30, skipBigramShare: Double = 0.25,
                skipBigramLengths: ClosedRange<Int> = 10...40, phase: Int = 60, permutationSeed: UInt64 = 99) {
        precondition(separator >= 2, "the alphabet needs at least two tokens")
        self.separator = separator
        self.spanLengths = spanLengths
        self.prefixLengths = prefixLengths
        self.gapShare = gapShare
        self.gapLengths = gapLengths
        self.skipBigramShare = skipBigramShare
        self.skipBigramLengths = skipBigramLengths
        self.phase = phase
        self.permutationSeed = permutationSeed
    }

    /// The skip-bigram rule: token `x[t+1]` is `permutation[x[t-1]]` (`[separator]`).
    public var permutation: [Int] {
        var rng = SeededRandom(seed: permutationSeed)
        var p = Array(0..<separator)
        for i in stride(from: p.count - 1, to: 0, by: -1) { p.swapAt(i, rng.below(i + 1)) }
        return p
    }

    /// A block as drawn, before it is flattened to tokens.
    enum Drawn: Equatable {
        case copy(prefix: [Int], span: [Int], gap: [Int])
        case skipBigram([Int])
    }

    /// One block for a training window of `window` tokens, starting with `separator`.
    ///
    /// - Parameters:
    ///   - window: the window length L the block must fit (spans ≤ L/3, prefixes ≤ L/4, gaps ≤ L/2).
    ///   - permutation: `self.permutation` (passed in so a row computes it once).
    ///   - alphabet: random tokens are drawn from ids `0..<alphabet` (nil: `0..<separator`); a
    ///     skip-bigram successor can lie outside it.
    ///   - rng: the only source of randomness.
    public func block(window: Int, permutation: [Int], alphabet: Int? = nil, using rng: inout SeededRandom) -> [Int] {
        switch draw(window: window, permutation: permutation, alphabet: alphabet, using: &rng) {
        case .copy(let prefix, let span, let gap): return [separator] + prefix + span + gap + span
        case .skipBigram(let x): return [separator] + x
        }
    }

    /// The parts of one block (see ``block(window:permutation:using:)``).
    func draw(window: Int, permutation: [Int], alphabet: Int? = nil, using rng: inout SeededRandom) -> Drawn {
        let alphabet = min(alphabet ?? separator, separator)
        if skipBigramShare > 0 && rng.unitInterval() < skipBigramShare {
            // e17 grows the block while a fresh draw from the length range exceeds its length.
            var x = [rng.below(alphabet), rng.below(alphabet)]
            while x.count < rng.inRange(skipBigramLengths) { x.append(permutation[x[x.count - 2]]) }
            return .skipBigram(x)
        }
        let n = rng.inRange(min(spanLengths.lowerBound, window / 4)...min(spanLengths.upperBound, window / 3))
        let span = randomTokens(n, alphabet, using: &rng)
        var gap: [Int] = []
        if gapShare > 0 && rng.unitInterval() < gapShare {
            gap = randomTokens(rng.inRange(Self.capped(gapLengths, at: window / 2)), alphabet, using: &rng)
        }
        let prefix = randomTokens(rng.inRange(Self.capped(prefixLengths, at: window / 4)), alphabet, using: &rng)
        return .copy(prefix: prefix, span: span, gap: gap)
    }

    /// A training row of `length` tokens: the tail of blocks generated for a window of `window`
    /// tokens until there are `length` plus 0...`phase` of them.
    ///
    /// A sampler asks for `window + 1` tokens so inputs and next-token targets come from one row;
    /// `alphabet` limits the random tokens to ids below it (nil: the whole alphabet).
    public func row(length: Int, window: Int, alphabet: Int? = nil, using rng: inout SeededRandom) -> [Int] {
        let p = permutation
        let target = length + rng.inRange(0...phase)
        var tokens: [Int] = []
        while tokens.count < target { tokens += block(window: window, permutation: p, alphabet: alphabet, using: &rng) }
        return Array(tokens.suffix(length))
    }

    /// A stream of at least `count` tokens of whole blocks for windows of `window` (held-out data).
    public func stream(count: Int, window: Int, seed: UInt64) -> [Int] {
        var rng = SeededRandom(seed: seed)
        let p = permutation
        var tokens: [Int] = []
        while tokens.count < count { tokens += block(window: window, permutation: p, using: &rng) }
        return tokens
    }

    /// `range` with both ends at most `cap` (never empty).
    static func capped(_ range: ClosedRange<Int>, at cap: Int) -> ClosedRange<Int> {
        min(range.lowerBound, cap)...min(range.upperBound, cap)
    }

    private func randomTokens(_ n: Int, _ alphabet: Int, using rng: inout SeededRandom) -> [Int] {
        (0..<n).map { _ in rng.below(alphabet) }
    }
}
