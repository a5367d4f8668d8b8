import Foundation
import MechanicCircuits
import MechanicModel

/// Fuzzes `config.json` reading for every family (`ModelFamilies.config(data:)` dispatches on
/// `model_type`: gpt2, gpt_neox, llama, mistral, qwen2, qwen3, gemma2, gemma3, …).
///
/// The input is the whole file. A configuration that is accepted (read, and no `problem()`, as
/// `CheckpointLoader` checks) must also be usable without a
/// trap by what the loader and the analyses do next with it: the expected parameter shapes, where
/// each parameter lives in a checkpoint, the parameter count, the feature list, the rotary
/// frequencies and the edge graph. Layers are capped at 4 for those checks, so an accepted
/// 1,024-layer config does not cost milliseconds per execution (the per-layer code is the same).
///
/// Traps on a finding; returns on any correct answer (a thrown error included).
public func checkModelConfig(_ bytes: [UInt8]) {
    // What `CheckpointLoader` does: read, then reject what `problem()` names.
    guard var config = try? ModelFamilies.config(data: Data(bytes)), config.problem() == nil else { return }
    guard let family = ModelFamilies.family(modelType: config.modelType) else {
        fatalError("config(data:) accepted model_type \(config.modelType) that has no family")
    }
    _ = config.parameterCount
    _ = config.features
    config.layers = min(config.layers, 4)
    if let layers = config.slidingLayers { config.slidingLayers = Array(layers.prefix(config.layers)) }
    for (path, shape) in TransformerWeights.expectedShapes(for: config) {
        precondition(shape.allSatisfy { $0 > 0 }, "\(path) has shape \(shape)")
        _ = family.source(of: path, config: config).names
    }
    if case .rotary(let rotary) = config.positions, rotary.dims <= 4096 { _ = rotary.inverseFrequencies }
    if let local = config.localRotary, local.dims <= 4096 { _ = local.inverseFrequencies }
    // The edge graph (it traps unless the heads divide into key/value groups) grows with heads²:
    // built for small head counts only.
    if config.heads <= 32 {
        config.layers = min(config.layers, 2)
        _ = ComputationalGraph(config: config).edges.count
    }
}

