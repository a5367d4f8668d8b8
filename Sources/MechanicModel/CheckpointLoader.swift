import Foundation
import MechanicSafetensors
import MechanicTensor

/// Loads Hugging Face checkpoints of every supported family, and saves GPT-2 ones: the one place
/// that reads HF's weight names (through each family's ``ModelFamily/source(of:config:)``).
///
/// A checkpoint is an HF snapshot folder: `config.json` plus `model.safetensors` (or a sharded
/// `model.safetensors.index.json`). Each family lists the name prefixes it accepts (GPT-2 with
/// and without `transformer.`, Llama-style `model.`, NeoX `gpt_neox.`), the `nn.Linear` weights
/// it transposes and the fusions it converts. F16 and BF16 tensors are converted to F32.
public enum CheckpointLoader {
    /// HF name (without prefix) of each Swift parameter path of a GPT-2 checkpoint.
    public static func hfName(of path: String) -> String {
        GPT2Family.source(of: path, config: TransformerConfig()).names[0]
    }

    /// Reads `config.json` from a checkpoint folder.
    public static func loadConfig(folder: URL) throws -> TransformerConfig {
        let url = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.missingFile(path: url.path, hint: "Point at a Hugging Face model folder (config.json + model.safetensors).")
        }
        let config: TransformerConfig
        do {
            let data = try Data(contentsOf: url)
            config = try ModelFamilies.config(data: data)
        } catch let problem as ConfigProblem {
            throw ModelError.invalidConfig(file: url.path, reason: problem.description)
        } catch let feature as UnsupportedFeature {
            throw ModelError.unsupportedFeature(file: url.path, feature: feature.description)
        } catch {
            throw ModelError.invalidConfig(file: url.path, reason: "unreadable (\(error.localizedDescription))")
        }
        if let reason = config.problem() { throw ModelError.invalidConfig(file: url.path, reason: reason) }
        return config
    }

    /// Loads a model of any supported family from an HF snapshot folder, validating every tensor.
    ///
    /// A weight holding NaN or infinity is refused by default: such a model computes NaN
    /// everywhere and every analysis of it is meaningless, so it is almost always a corrupt or
    /// diverged checkpoint.
    ///
    /// - Parameters:
    ///   - folder: the checkpoint folder.
    ///   - allowNonFiniteWeights: load weights holding NaN or infinity anyway (to inspect a
    ///     diverged run, say).
    /// - Throws: ``ModelError`` for a missing or inconsistent config or weights, an unknown
    ///   `model_type` or an unsupported feature, and `SafetensorsError` for a malformed weights
    ///   file (truncated, bad header, bad offsets…).
    public static func load(folder: URL, allowNonFiniteWeights: Bool = false, allowUnusedTensors: Bool = false) throws -> Transformer {
        let config = try loadConfig(folder: folder)
        // The weights are held as F32 whatever the file's type.
        try MemoryBudget.check(MemoryBudget.floats(config.parameterCount),
                               for: "loading \(folder.lastPathComponent) (\(config.parameterCount) parameters as F32)",
                               advice: "use a machine with more memory, or a smaller model")
        guard let family = ModelFamilies.family(modelType: config.modelType) else {
            throw ModelError.invalidConfig(file: folder.path, reason: "model_type \(config.modelType) has no family")
        }
        let files = try weightFiles(folder: folder)
        let reader = TensorReader(files: files, prefixes: family.prefixes, allowNonFinite: allowNonFiniteWeights)
        let weights = try TransformerWeights(config: config) { path, shape in
            try reader.read(family.source(of: path, config: config), shape: shape)
        }
        if !allowUnusedTensors {
            let used = Set(TransformerWeights.expectedShapes(for: config)
                .flatMap { family.source(of: $0.path, config: config).names }.compactMap(reader.key(of:)))
            let extra = files.flatMap(\.names).filter { !used.contains($0) && !isKnownBuffer($0, config: config) }.sorted()
            if !extra.isEmpty {
                throw ModelError.unaccountedTensors(file: reader.description, count: extra.count, examples: Array(extra.prefix(3)))
            }
        }
        return try Transformer(config: config, weights: weights)
    }

    /// Tensors checkpoints carry that are not parameters, which a load may leave unread: GPT-2's
    /// causal-mask buffers (`attn.bias`, `attn.masked_bias`), GPT-NeoX's (`attention.bias`,
    /// `attention.masked_bias`), rotary `inv_freq` tables, and, for a model with tied embeddings,
    /// a saved copy of the unembedding (`lm_head.weight`).
    public static func isKnownBuffer(_ name: String, config: TransformerConfig) -> Bool {
        let buffers = [".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias", "rotary_emb.inv_freq"]
        if buffers.contains(where: { name.hasSuffix($0) }) { return true }
        return config.tiedEmbeddings && name == "lm_head.weight"
    }

    /// The safetensors files of a folder: one `model.safetensors`, or the shards of an index.
    static func weightFiles(folder: URL) throws -> [SafetensorsFile] {
        let fm = FileManager.default
        let single = folder.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: single.path) { return [try SafetensorsFile(path: single.path)] }
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            guard let data = try? Data(contentsOf: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String]
            else { throw ModelError.invalidConfig(file: index.path, reason: "not a safetensors index (no weight_map object)") }
            return try Set(map.values).sorted().map { shard in
                guard !shard.contains("/") else {
                    throw ModelError.invalidConfig(file: index.path, reason: "shard name \(shard) points outside the folder")
                }
                return try SafetensorsFile(path: folder.appendingPathComponent(shard).path)
            }
        }
        let hint = fm.fileExists(atPath: folder.appendingPathComponent("pytorch_model.bin").path)
            ? "Only pytorch_model.bin is present; convert it to safetensors (transformers: model.save_pretrained(dir, safe_serialization=True))."
            : "Point at a Hugging Face model folder (config.json + model.safetensors)."
        throw ModelError.missingFile(path: single.path, hint: hint)
    }

    /// Writes a model as an HF snapshot folder (`config.json` + `model.safetensors`, names
    /// with the `transformer.` prefix) that HF transformers and this loader both read.
    public static func save(_ model: Transformer, to folder: URL, dtype: SafetensorsWriter.DType = .f32) throws {
        guard model.config.modelType == "gpt2" else {
            throw ModelError.unsupportedFeature(file: folder.path, feature: "saving a \(model.config.modelType) model (Mechanic writes GPT-2 checkpoints only)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (path, _) in TransformerWeights.expectedShapes(for: model.config) {
            tensors["transformer." + hfName(of: path)] = model.weights.tensor(at: path)
        }
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], dtype: dtype,
                                    to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(model.config)
        try data.write(to: folder.appendingPathComponent("config.json"), options: .atomic)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
