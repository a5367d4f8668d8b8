/// What was wrong with a sink analysis or calibration request: each case says what and what to do.
///
/// Prompts longer than the model's context surface as the model's own
/// `ModelError.promptTooLong`, with `row` set to the prompt's index in the whole prompt set.
public enum SinkError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No prompts were given.
    case emptyPromptSet
    /// A prompt has no tokens.
    case emptyPrompt(index: Int)
    /// An option outside its valid range.
    case invalidOption(name: String, value: String, expected: String)
    /// A layer index outside the model.
    case layerOutOfRange(layer: Int, layers: Int)
    /// A head index outside its layer.
    case headOutOfRange(layer: Int, head: Int, heads: Int)
    /// A calibration or held-out split with no batches.
    case emptySplit(name: String)
    /// The model's attention is bidirectional: sink scores and their uniform baseline assume a causal mask.
    case bidirectionalModel(modelType: String)

    public var description: String {
        switch self {
        case .emptyPromptSet:
            return "no prompts to analyse. Pass at least one prompt."
        case .emptyPrompt(let index):
            return "prompt \(index) has no tokens. Remove it or give it some text."
        case .invalidOption(let name, let value, let expected):
            return "option \(name) is \(value); expected \(expected)."
        case .layerOutOfRange(let layer, let layers):
            return "layer \(layer) is out of range (the model has \(layers) layers, 0…\(layers - 1))."
        case .headOutOfRange(let layer, let head, let heads):
            return "layer \(layer), head \(head) is out of range (the model has \(heads) heads per layer, 0…\(heads - 1))."
        case .emptySplit(let name):
            return "the \(name) split has no prompts. Give it at least one batch."
        case .bidirectionalModel(let type):
            return "this \(type) model attends in both directions; sink analysis is defined for causal attention (its scores and their uniform baseline assume each query sees only earlier keys)."
        }
    }
}
