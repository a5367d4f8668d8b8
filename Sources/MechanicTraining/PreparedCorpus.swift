import Foundation
import MechanicCorpus
import MechanicModel
import MechanicTensor
import MechanicTokenizer

/// A recipe's corpus, tokenizer and token streams.
public struct PreparedCorpus: Sendable {
    public var tokenizer: GPT2Tokenizer
    public var vocabulary: [String: Int]
    public var merges: [(String, String)]
    public var training: [Int]
    public var heldOut: [Int]
    /// The row generator of a recipe trained on generated blocks (alone: then `training` is empty).
    public var generator: InductionBlocks? = nil

    /// What the trainer draws its rows from.
    public var trainingData: TrainingData {
        guard let generator else { return .stream(training) }
        return training.isEmpty ? .generated(generator) : .mixed(stream: training, generator: generator)
    }

    /// Generates the recipe's text, builds its vocabulary and tokenizes both splits; for a
    /// recipe with `blocks`, a byte vocabulary and a held-out stream of generated blocks.
    public init(recipe: ReferenceRecipe) throws {
        if let blocks = recipe.blocks, recipe.isBlocksOnly {
            let built = VocabularyBuilder.bytesOnly()
            (vocabulary, merges) = (built.vocab, built.merges)
            tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
            guard tokenizer.eosID == blocks.separator else {
                throw TrainingError.invalidSetting("the blocks' separator \(blocks.separator) must be <|endoftext|> (\(tokenizer.eosID))")
            }
            generator = blocks
            training = []
            let s = recipe.settings
            heldOut = blocks.stream(count: (s.evaluationWindows + 1) * s.sequenceLength + 1, window: s.sequenceLength,
                                    seed: ~recipe.corpusSeed)
            return
        }
        let trainText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .train).text(minimumBytes: recipe.trainingBytes)
        let heldOutText = CorpusGenerator(seed: recipe.corpusSeed, mix: recipe.mix, split: .heldOut).text(minimumBytes: recipe.heldOutBytes)
        let built = try VocabularyBuilder.build(from: trainText, size: recipe.vocabularySize, required: VocabularyBuilder.standardRequired)
        vocabulary = built.vocab
        merges = built.merges
        tokenizer = try GPT2Tokenizer(vocabulary: built.vocab, merges: built.merges)
        training = tokenizer.encode(trainText)
        heldOut = tokenizer.encode(heldOutText)
        if let share = recipe.repeatShare, share > 0 {
            let repeats = RepeatDocuments(vocabularySize: tokenizer.vocabularySize, excluded: [tokenizer.eosID])
            training = Self.interleave(training, repeats: repeats, share: share, eos: tokenizer.eosID, seed: recipe.corpusSeed)
            heldOut = Self.interleave(heldOut, repeats: repeats, share: share, eos: tokenizer.eosID, seed: ~recipe.corpusSeed)
        }
        if let blocks = recipe.blocks {
            guard tokenizer.eosID == blocks.separator else {
                throw TrainingError.invalidSetting("the blocks' separator \(blocks.separator) must be <|endoftext|> (\(tokenizer.eosID))")
            }
            generator = blocks
        }
    }

    /// `stream`'s documents with repeat documents inserted after them until those make up `share`
    /// of the tokens; each repeat document takes its text pieces from the stream's documents.
    static func interleave(_ stream: [Int], repeats: RepeatDocuments, share: Double, eos: Int, seed: UInt64) -> [Int] {
        let documents = stream.split(separator: eos, omittingEmptySubsequences: true).map(Array.init)
        var rng = SeededRandom(seed: seed ^ 0x5EED_2E9E_A7ED_0001)
        var out: [Int] = []
        out.reserveCapacity(Int(Double(stream.count) / (1 - min(share, 0.9))) + 1024)
        var repeated = 0
        for document in documents {
            out += document
            out.append(eos)
            while Double(repeated) < share * Double(out.count) {
                let doc = repeats.document(text: documents, using: &rng)
                repeated += doc.count + 1
                out += doc
                out.append(eos)
            }
        }
        return out
    }

    /// Writes `vocab.json` and `merges.txt` into `folder`; returns their URLs.
    public func writeTokenizer(to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try VocabularyBuilder.write(vocab: vocabulary, merges: merges, to: folder)
        return [folder.appendingPathComponent("vocab.json"), folder.appendingPathComponent("merges.txt")]
    }
}
