import ArgumentParser

/// Upper bounds on option values, so an absurd number is a clear error instead of hours of work
/// or an allocation the machine cannot make.
enum OptionLimits {
    /// Prompts per task (positives and negatives each). The reference protocol uses 250.
    static let prompts = 100_000
    /// Label shuffles of the SAE's permutation control.
    static let permutations = 100_000

    /// Throws unless `value` is in `range`, naming the option.
    static func check(_ value: Int, _ range: ClosedRange<Int>, _ option: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound) (got \(value)).")
        }
    }

    /// Bytes a training-step benchmark of this shape needs, roughly: weights and their gradients,
    /// plus the activations the tape keeps (every layer's residual-sized tensors and attention
    /// patterns) and the logits with their gradient.
    static func trainingBytes(layers: Int, heads: Int, dModel: Int, vocab: Int, context: Int, attentionOnly: Bool,
                              batch: Int, seq: Int) -> Double {
        let d = Double(dModel), perLayer = (attentionOnly ? 4 : 12) * d * d
        let parameters = Double(vocab) * d + Double(context) * d + Double(layers) * perLayer
        let tokens = Double(batch) * Double(seq)
        let activations = tokens * Double(layers) * (20 * d + 2 * Double(heads) * Double(seq)) + 2 * tokens * Double(vocab)
        return 4 * (2 * parameters + activations)
    }
}
