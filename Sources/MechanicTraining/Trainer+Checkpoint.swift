import Foundation
import MechanicModel
import MechanicSafetensors
import MechanicCorpus
import MechanicTensor

/// What a checkpoint records beside the weights, so a run resumes exactly where it stopped.
struct TrainingState: Codable {
    var format = "mechanic-training-state-1"
    var step: Int
    var optimizerStep: Int
    var samplerState: UInt64
    var settings: TrainingSettings
    /// Token count and a checksum of the training stream, so a resume with other data is refused.
    var trainingTokens: Int
    var trainingChecksum: UInt64
    var log: [TrainingRecord]
    /// The row generator of a run on generated or mixed data (nil for a token stream).
    var generator: InductionBlocks? = nil
}

extension Trainer {
    /// FNV-1a over the token ids: a cheap fingerprint of the training stream.
    static func checksum(_ tokens: [Int]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for t in tokens {
            hash ^= UInt64(bitPattern: Int64(t))
            hash = hash &* 0x100_0000_01B3
        }
        return hash
    }

    /// Writes a resumable checkpoint: an HF snapshot folder (config.json, model.safetensors and the
    /// given extra files) plus `training-state.json` and `training-state.safetensors`.
    ///
    /// The folder is assembled beside its destination and renamed into place, so an interrupted
    /// save never leaves a half-written checkpoint.
    public func save(to folder: URL, extraFiles: [URL] = []) throws {
        let fm = FileManager.default
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).partial-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            try CheckpointLoader.save(model, to: staging)
            for file in extraFiles {
                try fm.copyItem(at: file, to: staging.appendingPathComponent(file.lastPathComponent))
            }
            var moments: [String: Tensor] = [:]
            for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: model.config) {
                moments["m." + path] = optimizer.firstMoment[keyPath: keyPath]
                moments["v." + path] = optimizer.secondMoment[keyPath: keyPath]
            }
            try SafetensorsWriter.write(moments, metadata: ["format": "mechanic-adamw"],
                                        to: staging.appendingPathComponent("training-state.safetensors"))
            let state = TrainingState(step: step, optimizerStep: optimizer.step, samplerState: sampler.rng.currentState,
                                      settings: settings, trainingTokens: sampler.tokens.count,
                                      trainingChecksum: Trainer.checksum(sampler.tokens), log: log,
                                      generator: sampler.generator)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: staging.appendingPathComponent("training-state.json"))
            // Swap in: the old checkpoint steps aside before the new one takes its name, and is
            // removed only once the new one is in place.
            let previous = staging.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).previous-\(UUID().uuidString)")
            let hadPrevious = fm.fileExists(atPath: folder.path)
            if hadPrevious { try fm.moveItem(at: folder, to: previous) }
            try fm.moveItem(at: staging, to: folder)
            if hadPrevious { try? fm.removeItem(at: previous) }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Continues a run on a token stream from a checkpoint written by ``save(to:extraFiles:)``.
    ///
    /// - Parameters:
    ///   - training: the same training stream the run started with (checked by count and checksum).
    ///   - heldOut: the held-out stream for evaluation.
    public static func resume(folder: URL, training: [Int], heldOut: [Int]) throws -> Trainer {
        try resume(folder: folder, data: .stream(training), heldOut: heldOut)
    }

    /// Continues a run from a checkpoint written by ``save(to:extraFiles:)``.
    ///
    /// - Parameters:
    ///   - data: the same training stream (checked by count and checksum) or row generator
    ///     (checked for equality) the run started with.
    ///   - heldOut: the held-out stream for evaluation.
    public static func resume(folder: URL, data: TrainingData, heldOut: [Int]) throws -> Trainer {
        let stateURL = folder.appendingPathComponent("training-state.json")
        let state: TrainingState
        do {
            state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.resumeMismatch("\(stateURL.path) is missing or unreadable (\(error.localizedDescription))")
        }
        let training = data.tokens ?? []
        guard state.generator == data.generator, state.trainingTokens == training.count, state.trainingChecksum == checksum(training) else {
            throw TrainingError.resumeMismatch("the training tokens or the data generator differ from the ones the run started with")
        }
        let model = try CheckpointLoader.load(folder: folder)
        var trainer = try Trainer(config: model.config, settings: state.settings, data: data, heldOut: heldOut)
        trainer.model = model
        let moments = try SafetensorsFile(path: folder.appendingPathComponent("training-state.safetensors").path)
        for (path, keyPath) in TransformerWeights.parameterKeyPaths(for: model.config) {
            trainer.optimizer.firstMoment[keyPath: keyPath] = try moments.tensor("m." + path)
            trainer.optimizer.secondMoment[keyPath: keyPath] = try moments.tensor("v." + path)
        }
        trainer.optimizer.step = state.optimizerStep
        trainer.sampler.rng = SeededRandom(seed: state.samplerState)
        trainer.step = state.step
        trainer.log = state.log
        return trainer
    }
}
