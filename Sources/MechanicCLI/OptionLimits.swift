import ArgumentParser
import Foundation

/// Upper bounds on option values, so an absurd number is a clear error instead of hours of work
/// or an allocation the machine cannot make.
enum OptionLimits {
    /// Prompts per task (positives and negatives each). The reference protocol uses 250.
    static let prompts = 100_000
    /// Label shuffles of the SAE's permutation control.
    static let permutations = 100_000

    /// SAE hidden units. The reference uses 200; the SAE's weights and every training step grow
    /// with hidden units × d_model, so tens of thousands is already hours on the reference models.
    static let saeHidden = 16_384
    /// SAE full-batch epochs. The reference uses 500.
    static let epochs = 1_000_000
    /// EAP-IG interpolation steps (each is a forward and a backward pass).
    static let igSteps = 1_000
    /// Widest MLP hidden layer `--mlp-width` takes (GPT-2 small's is 3,072).
    static let mlpWidth = 65_536

    /// Throws unless `value` is in `range`, naming the option and, when given, why the range.
    static func check(_ value: Int, _ range: ClosedRange<Int>, _ option: String, because why: String? = nil) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))"
                + (why.map { ": \($0)." } ?? "."))
        }
    }

    /// Throws unless `value` is a finite number of at least `minimum` (above it when `exclusive`):
    /// NaN or infinity in a threshold, penalty or learning rate makes every result NaN or empty.
    static func check(_ value: Float, atLeast minimum: Float, exclusive: Bool = false, _ option: String) throws {
        guard value.isFinite, exclusive ? value > minimum : value >= minimum else {
            let bound = exclusive ? "above \(minimum)" : "at least \(minimum)"
            throw ValidationError("\(option) must be a finite number \(bound) (got \(value)).")
        }
    }

    /// Throws unless an `--mlp-width` (nil: not given) is in 1…`mlpWidth` and sets a model that has
    /// MLPs; `model` names that model in the error.
    static func checkMLPWidth(_ width: Int?, attentionOnly: Bool, model: String) throws {
        guard let width else { return }
        if !(1...mlpWidth).contains(width) { throw ValidationError("--mlp-width must be 1…\(mlpWidth); got \(width).") }
        if attentionOnly { throw ValidationError("--mlp-width: \(model) is attention-only and has no MLPs.") }
    }

    /// Matrix-product threads: at most the machine's cores, since more only adds contention.
    static func checkThreads(_ threads: Int) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        try check(threads, 1...cores, "--threads", because: "this machine has \(cores) cores and more threads than cores only slow matrix products down")
    }

    /// Bytes a training-step benchmark of this shape needs, roughly: weights and their gradients,
    /// plus the activations the tape keeps (every layer's residual-sized tensors and attention
    /// patterns) and the logits with their gradient.
    static func trainingBytes(layers: Int, heads: Int, dModel: Int, vocab: Int, context: Int, attentionOnly: Bool,
                              mlpWidth: Int? = nil, batch: Int, seq: Int) -> Double {
        let d = Double(dModel), inner = Double(mlpWidth ?? 4 * dModel)
        let perLayer = 4 * d * d + (attentionOnly ? 0 : 2 * d * inner)
        let parameters = Double(vocab) * d + Double(context) * d + Double(layers) * perLayer
        let tokens = Double(batch) * Double(seq)
        let activations = tokens * Double(layers) * (12 * d + 2 * inner + 2 * Double(heads) * Double(seq)) + 2 * tokens * Double(vocab)
        return 4 * (2 * parameters + activations)
    }
}
