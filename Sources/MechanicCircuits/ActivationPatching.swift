import Dispatch
import MechanicModel
import MechanicTasks
import MechanicTensor
import MechanicTokenizer

/// Head-level activation patching: replace one head's output (`hook_z`) and measure how much the
/// task metric falls.
///
/// Each head of layer `l` is patched in its own copy of the prompt batch, all heads of the layer
/// in one stacked run that starts from the cached `blocks.l.hook_resid_pre` with all of `hook_z`
/// given (the clean z, one head replaced per copy), so layer l's attention is not recomputed and
/// only its W_O and later layers run; the last block runs at the last position only, and only
/// that position is unembedded.
public enum ActivationPatching {
    /// What a patched head's output becomes.
    public enum Source: String, Codable, CaseIterable, Sendable {
        /// The head's output on the corrupted prompt (resample ablation).
        case resample
        /// The head's mean output over the prompt set, per position.
        case mean
        /// Zero.
        case zero
    }

    /// Score of each head: mean over prompts of (clean metric − patched metric).
    ///
    /// - Parameters:
    ///   - prompts: task prompts, right-padded together; for `.resample` each corrupted prompt must
    ///     have its clean prompt's token count, so positions line up.
    ///   - progress: called after each layer with (layers done, layers).
    public static func headScores(
        model: Transformer, prompts: [TaskPrompt], metric: TaskMetric, source: Source = .resample,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> HeadScores {
        let start = DispatchTime.now().uptimeNanoseconds
        let c = model.config
        let rows = prompts.map(\.tokens)
        guard !rows.isEmpty else { throw TaskError.tooFewPrompts(task: "patching", wanted: 1, made: 0, reason: "no prompts") }
        let batch = TokenBatch(rows: rows)
        let length = batch.positions
        let zNames = (0..<c.layers).map { HookName.z($0) }
        let vocabulary = metricVocabulary(prompts, metric: metric)
        let clean = try model.run(batch, logits: .last, vocabulary: vocabulary,
                                  capture: CaptureSpec(names: zNames + (0..<c.layers).map { HookName.residPre($0) }))
        let cleanMetric = values(clean.logits!, prompts: prompts, metric: metric, vocabulary: vocabulary, vocab: c.vocabSize)

        // The replacement z of every layer, [batch, pos, head, dHead].
        var replacement: [Tensor] = []
        switch source {
        case .resample:
            let cache = try model.run(try corruptedBatch(prompts), logits: .none, capture: CaptureSpec(names: zNames)).cache
            replacement = zNames.map { cache[$0]! }
        case .mean:
            replacement = zNames.map { name in
                let z = clean.cache[name]!
                let perPrompt = z.count / z.shape[0]
                var mean = [Float](repeating: 0, count: perPrompt)
                for b in 0..<z.shape[0] { for i in 0..<perPrompt { mean[i] += z.storage[b * perPrompt + i] / Float(z.shape[0]) } }
                return Tensor(shape: z.shape, storage: (0..<z.shape[0]).flatMap { _ in mean })
            }
        case .zero:
            replacement = zNames.map { Tensor(shape: clean.cache[$0]!.shape) }
        }

        let n = prompts.count, h = c.heads, dh = c.dHead
        var scores = [Float](repeating: 0, count: c.layers * h)
        let stacked = TokenBatch(rows: (0..<h).flatMap { _ in rows }, padID: Int(batch.padID))
        for layer in 0..<c.layers {
            let resid = clean.cache[.residPre(layer)]!                       // [batch, pos, dModel]
            let residual = Tensor(shape: [h * n, length, c.dModel], storage: (0..<h).flatMap { _ in resid.storage })
            // hook_z of the stacked batch [heads · batch, pos, head, dHead]: copy g is the clean z with head g
            // replaced. A replacement of all of hook_z lets the run skip this layer's ln_1, qkv and pattern.
            let source = replacement[layer], cleanZ = clean.cache[.z(layer)]!
            var patchedZ = Tensor(shape: [h * n, length, h, dh], storage: (0..<h).flatMap { _ in cleanZ.storage })
            for g in 0..<h {
                for b in 0..<n {
                    for p in 0..<length {
                        let dst = (((g * n + b) * length + p) * h + g) * dh
                        let src = ((b * length + p) * h + g) * dh
                        for i in 0..<dh { patchedZ.storage[dst + i] = source.storage[src + i] }
                    }
                }
            }
            let patch = Intervention(.z(layer), .replace(patchedZ))
            let out = try model.run(stacked, fromLayer: layer, residual: residual, logits: .last, vocabulary: vocabulary,
                                    interventions: [patch])
            let patched = values(out.logits!, prompts: (0..<h).flatMap { _ in prompts }, metric: metric, vocabulary: vocabulary,
                                 vocab: c.vocabSize)
            for g in 0..<h {
                var effect: Float = 0
                for b in 0..<n { effect += cleanMetric[b] - patched[g * n + b] }
                scores[layer * h + g] = effect / Float(n)
            }
            progress?(layer + 1, c.layers)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return HeadScores(method: "patching-\(source.rawValue)", heads: HeadID.all(layers: c.layers, heads: h),
                          scores: scores, seconds: seconds)
    }

    /// The corrupted prompts, padded like the clean ones (each must match its clean prompt's length).
    static func corruptedBatch(_ prompts: [TaskPrompt]) throws -> TokenBatch {
        let rows = try prompts.enumerated().map { i, p -> [Int] in
            guard let t = p.corruptedTokens, t.count == p.tokens.count else { throw TaskError.corruptedLengthMismatch(index: i) }
            return t
        }
        return TokenBatch(rows: rows)
    }

    /// The token ids a metric reads, when it reads only some (a logit difference reads the answers
    /// and wrong answers; a probability difference needs the whole vocabulary for its softmax).
    static func metricVocabulary(_ prompts: [TaskPrompt], metric: TaskMetric) -> [Int]? {
        guard metric == .logitDifference else { return nil }
        return Set(prompts.flatMap { $0.answers + $0.wrongAnswers }).sorted()
    }

    /// The metric of each row of last-position logits `[rows, 1, vocab]`, or `[rows, 1, vocabulary.count]`
    /// when only `vocabulary` was unembedded (then scattered into a vocabulary-wide row for the metric).
    static func values(_ logits: Tensor, prompts: [TaskPrompt], metric: TaskMetric, vocabulary: [Int]? = nil, vocab: Int) -> [Float] {
        let width = vocabulary?.count ?? vocab
        var row = [Float](repeating: 0, count: vocabulary == nil ? 0 : vocab)  // [vocab]
        return logits.storage.withUnsafeBufferPointer { all in
            prompts.indices.map { i in
                let part = UnsafeBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])
                guard let vocabulary else { return metric.value(logits: part, prompt: prompts[i]) }
                for (j, id) in vocabulary.enumerated() { row[id] = part[j] }
                return row.withUnsafeBufferPointer { metric.value(logits: $0, prompt: prompts[i]) }
            }
        }
    }
}
