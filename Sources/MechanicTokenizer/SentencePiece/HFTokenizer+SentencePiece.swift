import Foundation
import SwiftProtobuf

extension HFTokenizer {
    /// Loads a SentencePiece BPE model (`tokenizer.model`), encoding as Hugging Face's
    /// conversion of it does (transformers' `LlamaConverter`, legacy mode: what Llama 2's
    /// and Mistral's `tokenizer.json` hold).
    ///
    /// The conversion keeps every piece at its id; derives the merges from the pieces
    /// (each split of a piece into two pieces is a merge, ranked by the piece's score,
    /// as `generate_merges` does); turns `<0xNN>` pieces into byte fallback; matches
    /// control and user-defined pieces verbatim; and normalizes by `Prepend("▁")` (when
    /// `add_dummy_prefix`) and `Replace(" ", "▁")`. Like Hugging Face, it ignores
    /// `remove_extra_whitespaces` (Llama's models have it off).
    ///
    /// - Parameters:
    ///   - url: the `tokenizer.model` file.
    ///   - configURL: its `tokenizer_config.json`, if any.
    /// - Throws: `.malformedModel` for a file that is not a SentencePiece model,
    ///   `.unsupported` for Unigram models or a non-identity normalization.
    public init(sentencePieceModelURL url: URL, configURL: URL? = nil) throws(TokenizerError) {
        let path = url.path
        let data = try GPT2Tokenizer.readFile(url)
        let proto: Sentencepiece_ModelProto
        do {
            proto = try Sentencepiece_ModelProto(serializedBytes: data)
        } catch {
            throw .malformedModel(path: path, detail: "not a SentencePiece ModelProto (\(error))")
        }
        guard !proto.pieces.isEmpty else { throw .malformedModel(path: path, detail: "it has no pieces") }
        guard proto.pieces.count <= Self.maxID + 1 else {
            throw .malformedModel(path: path, detail: "\(proto.pieces.count) pieces, above the supported \(Self.maxID + 1)")
        }
        let trainer = proto.trainerSpec
        guard trainer.modelType == .bpe else {
            throw .unsupported(path: path, feature: "SentencePiece model type \(trainer.modelType) (only BPE)")
        }
        let norm = proto.normalizerSpec
        if !norm.precompiledCharsmap.isEmpty, norm.name != "identity" {
            throw .unsupported(path: path, feature: "SentencePiece normalization \(norm.name.debugDescription)")
        }

        var vocabulary: [String: Int] = [:]
        var added: [AddedTokenSpec] = []
        for (id, piece) in proto.pieces.enumerated() {
            guard !piece.piece.isEmpty else { throw .malformedModel(path: path, detail: "piece \(id) is empty") }
            if let other = vocabulary[piece.piece] {
                throw .duplicateID(path: path, id: id, tokens: [piece.piece, "(also piece \(other))"])
            }
            vocabulary[piece.piece] = id
            switch piece.type {
            case .control, .unknown, .userDefined:
                added.append(AddedTokenSpec(id: id, content: piece.piece, normalized: false))
            default:
                break
            }
        }
        let merges = Self.sentencePieceMerges(proto.pieces, vocabulary)
        let unknownID = Int(trainer.unkID)
        guard unknownID >= 0, unknownID < proto.pieces.count else {
            throw .malformedModel(path: path, detail: "unk_id \(unknownID) is not a piece")
        }
        let model = try BPEModel(
            vocabulary: vocabulary, merges: merges, unknownToken: proto.pieces[unknownID].piece,
            byteFallback: trainer.byteFallback, fuseUnknown: true, ignoreMerges: false, path: path
        )
        var normalizer: Normalizer?
        if norm.escapeWhitespaces {
            let replace = Normalizer.replace(pattern: " ", content: "▁")
            normalizer = norm.addDummyPrefix ? .sequence([.prepend("▁"), replace]) : replace
        }
        var decoders: [TokenDecoder] = [.replace(pattern: "▁", content: " "), .byteFallback, .fuse]
        if norm.addDummyPrefix { decoders.append(.strip(content: " ", start: 1, stop: 0)) }

        func piece(_ id: Int32) -> String? {
            id >= 0 && Int(id) < proto.pieces.count ? proto.pieces[Int(id)].piece : nil
        }
        var config = try Self.readConfig(configURL)
        if config.bosToken == nil { config.bosToken = piece(trainer.bosID) }
        if config.eosToken == nil { config.eosToken = piece(trainer.eosID) }
        if config.padToken == nil { config.padToken = piece(trainer.padID) }
        let bos = config.bosToken.flatMap { vocabulary[$0] }
        try self.init(
            model: model, normalizer: normalizer, preTokenizer: nil, decoder: .sequence(decoders), addedTokens: added,
            template: bos.map { PostProcessorTemplate(prefix: [$0], suffix: []) }, config: config, path: path
        )
    }

    /// The merges Hugging Face derives from SentencePiece pieces (`generate_merges` with scores).
    ///
    /// For each piece in id order, every split into two pieces of the vocabulary is a merge
    /// (ordered by the two halves' ids); all merges are then stably sorted by the piece's
    /// score, then the halves' lengths in scalars, all descending.
    static func sentencePieceMerges(_ pieces: [Sentencepiece_ModelProto.SentencePiece], _ vocabulary: [String: Int]) -> [MergeLine] {
        var candidates: [(left: String, right: String, score: Float, leftLength: Int, rightLength: Int, order: Int)] = []
        for piece in pieces {
            let scalars = Array(piece.piece.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(left: String, right: String, leftID: Int, rightID: Int, leftLength: Int)] = []
            for cut in 1..<scalars.count {
                let left = String(String.UnicodeScalarView(scalars[..<cut]))
                let right = String(String.UnicodeScalarView(scalars[cut...]))
                if let l = vocabulary[left], let r = vocabulary[right] { local.append((left, right, l, r, cut)) }
            }
            local.sort { ($0.leftID, $0.rightID) < ($1.leftID, $1.rightID) }
            for m in local {
                candidates.append((m.left, m.right, piece.score, m.leftLength, scalars.count - m.leftLength, candidates.count))
            }
        }
        candidates.sort {
            if $0.score != $1.score { return $0.score > $1.score }
            if $0.leftLength != $1.leftLength { return $0.leftLength > $1.leftLength }
            if $0.rightLength != $1.rightLength { return $0.rightLength > $1.rightLength }
            return $0.order < $1.order
        }
        return candidates.enumerated().map { MergeLine(left: $1.left, right: $1.right, line: $0 + 1) }
    }
}
