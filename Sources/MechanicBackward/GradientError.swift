/// What went wrong in a gradient computation: each case says what and what to do.
///
/// Problems with the batch or the interventions themselves (a prompt too long, an unknown hook,
/// a replacement of the wrong shape) are thrown as `ModelError`, exactly as `Transformer.run` does.
public enum GradientError: Error, CustomStringConvertible, Equatable {
    /// The targets have a different number of rows than the batch.
    case targetRowCount(expected: Int, found: Int)
    /// A target row is longer than the padded batch.
    case targetRowTooLong(row: Int, length: Int, positions: Int)
    /// A target id outside the vocabulary (and not −1, the mask).
    case targetOutOfRange(row: Int, position: Int, id: Int, vocabSize: Int)
    /// Every target is masked, so the mean loss is undefined.
    case noTargets
    /// The objective's gradient does not have the logits' shape.
    case objectiveGradientShape(expected: [Int], found: [Int])
    /// An intervention the backward pass cannot follow.
    case unsupportedIntervention(hook: String, reason: String)
    /// An architecture feature the backward pass does not differentiate yet.
    case unsupportedArchitecture(modelType: String, feature: String)

    public var description: String {
        switch self {
        case .targetRowCount(let expected, let found):
            return "targets have \(found) rows but the batch has \(expected). Give one target row per prompt."
        case .targetRowTooLong(let row, let length, let positions):
            return "target row \(row) has \(length) entries but the batch is padded to \(positions) positions. Give at most one target per position."
        case .targetOutOfRange(let row, let position, let id, let vocab):
            return "target row \(row), position \(position): id \(id) is outside the vocabulary (0..<\(vocab)); use −1 to mask a position."
        case .noTargets:
            return "every target is masked (−1 or padding), so the mean loss is undefined. Give at least one real target."
        case .objectiveGradientShape(let expected, let found):
            return "the objective returned a gradient of shape \(found); it must have the logits' shape \(expected)."
        case .unsupportedIntervention(let hook, let reason):
            return "\(hook): \(reason)"
        case .unsupportedArchitecture(let type, let feature):
            return "gradients of \(type) models are not available yet: the backward pass does not differentiate \(feature). Forward runs, hooks and activation patching work; use them instead of gradient methods for this model."
        }
    }
}
