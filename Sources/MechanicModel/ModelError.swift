import MechanicTensor

/// What went wrong while loading or running a model: each case says what and what to do.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The folder or a required file does not exist.
    case missingFile(path: String, hint: String)
    /// `config.json` is unreadable or describes a model Mechanic cannot build.
    case invalidConfig(file: String, reason: String)
    /// The checkpoint uses an architecture feature Mechanic does not compute (named).
    case unsupportedFeature(file: String, feature: String)
    /// A required weight is absent from the checkpoint.
    case missingTensor(file: String, tensor: String)
    /// A weight has the wrong shape for the configuration.
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    /// A weight contains NaN or infinity.
    case nonFiniteWeights(file: String, tensor: String)
    /// The checkpoint holds tensors the config does not account for (more layers, MLPs an
    /// attention-only config drops, another model's parts).
    case unaccountedTensors(file: String, count: Int, examples: [String])
    /// A prompt is longer than the model's context.
    case promptTooLong(row: Int, length: Int, contextLength: Int)
    /// A token id is outside the vocabulary.
    case tokenOutOfRange(row: Int, position: Int, id: Int, vocabSize: Int)
    /// A hook name that this model does not have.
    case unknownHook(String)
    /// A head index outside `0..<heads`, or heads given for a hook without a head axis.
    case headOutOfRange(hook: String, head: Int, heads: Int)
    /// A position outside a row.
    case positionOutOfRange(hook: String, position: Int, length: Int)
    /// A replacement tensor whose shape does not fit the activation.
    case interventionShape(hook: String, expected: [Int], found: [Int])
    /// A patch source cache that lacks the hook (or holds it at other positions).
    case missingPatchSource(hook: String)
    /// A layer index outside the model.
    case layerOutOfRange(layer: Int, layers: Int)
    /// A token id asked for in a vocabulary selection is outside the vocabulary.
    case vocabularyOutOfRange(id: Int, vocabSize: Int)

    public var description: String {
        switch self {
        case .missingFile(let path, let hint):
            return "\(path) not found. \(hint)"
        case .invalidConfig(let file, let reason):
            return "\(file): \(reason). Fix config.json or point at a checkpoint of a supported family."
        case .unsupportedFeature(let file, let feature):
            return "\(file): \(feature) is not supported by Mechanic. `mechanic inspect --families` lists what is."
        case .missingTensor(let file, let tensor):
            return "\(file): tensor \(tensor) is missing. The checkpoint does not match its config.json."
        case .wrongShape(let file, let tensor, let expected, let found):
            return "\(file): tensor \(tensor) has shape \(found), config.json implies \(expected). The weights and config disagree."
        case .unaccountedTensors(let file, let count, let examples):
            let shown = examples.map { $0.count > 120 ? String($0.prefix(120)) + "…" : $0 }.joined(separator: ", ")
            return "\(file): \(count) tensor\(count == 1 ? "" : "s") the config does not account for (\(shown)\(count > examples.count ? ", …" : "")). "
                + "config.json probably describes fewer layers, no MLPs or another model than the weights hold; fix it, "
                + "or load anyway with allowUnusedTensors (CLI: --allow-unused-tensors)."
        case .nonFiniteWeights(let file, let tensor):
            return "\(file): tensor \(tensor) contains NaN or infinity, so the checkpoint is corrupt or its training diverged. Load it anyway with allowNonFiniteWeights (CLI: --allow-non-finite-weights)."
        case .promptTooLong(let row, let length, let context):
            return "prompt \(row) has \(length) tokens but the model's context is \(context). Shorten it or split it."
        case .tokenOutOfRange(let row, let position, let id, let vocab):
            return "prompt \(row), position \(position): token id \(id) is outside the vocabulary (0..<\(vocab)). Use the model's own tokenizer."
        case .unknownHook(let name):
            return "no hook named \(name) in this model. `mechanic inspect --hooks` lists them."
        case .headOutOfRange(let hook, let head, let heads):
            return heads == 0
                ? "\(hook) has no head axis; drop the head selection."
                : "\(hook): head \(head) is out of range (the model has \(heads) heads per layer)."
        case .positionOutOfRange(let hook, let position, let length):
            return "\(hook): position \(position) is outside a prompt of \(length) tokens."
        case .interventionShape(let hook, let expected, let found):
            return "\(hook): intervention tensor has shape \(found), expected \(expected) (or a suffix of it for add/mean)."
        case .missingPatchSource(let hook):
            return "\(hook): the patch source cache does not hold this hook at every position. Capture it with positions .all first."
        case .layerOutOfRange(let layer, let layers):
            return "layer \(layer) is out of range (the model has \(layers) layers)."
        case .vocabularyOutOfRange(let id, let vocab):
            return "token id \(id) asked for in the logits is outside the vocabulary (0..<\(vocab)). Use the model's own tokenizer."
        }
    }
}
