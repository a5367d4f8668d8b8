/// A Hugging Face tokenizer of any of the families Mechanic loads, giving exactly the ids
/// Hugging Face `tokenizers` gives.
///
/// Built from a folder's `tokenizer.json` (GPT-2, GPT-NeoX/Pythia, Llama 2/3, Mistral,
/// Qwen2/3, Gemma 2/3, StarCoder) or, when it has none, its SentencePiece
/// `tokenizer.model`. Encoding follows Hugging Face's pipeline in order:
///
/// 1. added tokens that are not normalized are cut out of the raw text;
/// 2. each remaining run is normalized (`Normalizer`), then cut at normalized added tokens;
/// 3. the pre-tokenizer (`PreTokenizerStep`) cuts runs into pieces;
/// 4. BPE (`BPEModel`) encodes each piece on its own;
/// 5. `encode(_:)` adds the file's BOS/EOS (`tokenizer_config.json`'s `add_bos_token` /
///    `add_eos_token` if set, else the post-processor's template).
///
/// Decoding runs the file's decoder (`TokenDecoder`) over the tokens' spellings.
/// A value type that is cheap to copy and safe to share between threads.
public struct HFTokenizer: Tokenizer {
    /// Largest id accepted: ids index arrays, so an absurd id must not allocate gigabytes.
    static let maxID = GPT2Tokenizer.maxID

    /// The BPE vocabulary and merges.
    let model: BPEModel
    /// Normalizer, if the file has one.
    let normalizer: Normalizer?
    /// Pre-tokenizer, if the file has one.
    let preTokenizer: PreTokenizerStep?
    /// Decoder; nil joins token spellings with spaces, as Hugging Face does.
    let decoder: TokenDecoder?
    /// Added tokens matched on raw text (`normalized: false`).
    let rawAddedTokens: AddedTokenMatcher
    /// Added tokens matched on normalized text (`normalized: true`).
    let normalizedAddedTokens: AddedTokenMatcher
    /// Spelling of each id `[id]`, added tokens included; nil for unused ids.
    let idToToken: [String?]
    /// Added token spelling → id.
    let addedTokenIDs: [String: Int]
    /// Ids `encode(_:)` puts before the text (the file's BOS rule).
    let prefixIDs: [Int]
    /// Ids `encode(_:)` puts after the text (EOS, if the file adds it).
    let suffixIDs: [Int]

    /// Id prepended by `encode(_:prependBOS: true)`: the file's BOS, or its EOS when it has
    /// none (as TransformerLens does for Qwen, which has no BOS).
    public let bosID: Int
    /// End-of-sequence id.
    public let eosID: Int
    /// Id written into padded slots of a batch: the file's pad token, else `eosID`.
    public let padID: Int

    /// Number of rows an embedding matrix needs: one more than the largest id.
    public var vocabularySize: Int { idToToken.count }
}

extension HFTokenizer {
    /// Token ids of `text` with the file's own special tokens (what
    /// `AutoTokenizer(folder)(text).input_ids` gives: BOS for Llama, Mistral and Gemma,
    /// none for GPT-2 and Qwen).
    ///
    /// - Parameter text: any text.
    public func encode(_ text: String) -> [Int] {
        prefixIDs + encode(text, naive: false) + suffixIDs
    }

    /// Token ids of `text` without the file's special tokens, optionally after `bosID`.
    ///
    /// TransformerLens prepends BOS by default, so `prependBOS: true` matches its `to_tokens`.
    ///
    /// - Parameters:
    ///   - text: any text.
    ///   - prependBOS: whether to start with `bosID`.
    public func encode(_ text: String, prependBOS: Bool) -> [Int] {
        let ids = encode(text, naive: false)
        return prependBOS ? [bosID] + ids : ids
    }

    /// Encodes `texts` into one right-padded batch, padding with `padID`.
    ///
    /// - Parameters:
    ///   - texts: at least one text.
    ///   - prependBOS: whether each row starts with `bosID`.
    /// - Throws: `TokenizerError.emptyBatch` for no texts, `.emptySequence` for a row with no tokens.
    public func batch(_ texts: [String], prependBOS: Bool) throws(TokenizerError) -> TokenBatch {
        guard !texts.isEmpty else { throw .emptyBatch }
        var rows: [[Int]] = []
        for (index, text) in texts.enumerated() {
            let row = encode(text, prependBOS: prependBOS)
            guard !row.isEmpty else { throw .emptySequence(index: index) }
            rows.append(row)
        }
        return TokenBatch(rows: rows, padID: padID)
    }

    /// The pre-tokenizer's pieces of `text`, as vocabulary spellings (byte-level
    /// characters for byte-level files), added tokens as their own pieces.
    ///
    /// - Parameter text: any text.
    public func preTokenize(_ text: String) -> [String] {
        var out: [String] = []
        forEachPiece(text) { piece in
            switch piece {
            case .text(let scalars): out.append(Self.string(scalars))
            case .token(let id): out.append(idToToken[id] ?? "")
            }
        }
        return out
    }

    /// Encodes without special tokens, with the fast cached BPE or its naive twin.
    func encode(_ text: String, naive: Bool) -> [Int] {
        var ids: [Int] = []
        forEachPiece(text) { piece in
            switch piece {
            case .text(let scalars): model.tokenize(scalars, naive: naive, into: &ids)
            case .token(let id): ids.append(id)
            }
        }
        return ids
    }

    /// A pre-tokenized piece or an added token.
    enum PieceOrToken {
        case text([UInt32])
        case token(Int)
    }

    /// Runs steps 1–3 of the pipeline, calling `body` for each piece or added token in order.
    private func forEachPiece(_ text: String, _ body: (PieceOrToken) -> Void) {
        for raw in rawAddedTokens.split(text.unicodeScalars.map(\.value), atOrigin: true) {
            switch raw {
            case .token(let id):
                body(.token(id))
            case .text(let scalars, let atOrigin):
                var normalized = scalars
                if let normalizer {
                    normalized = normalizer.apply(Self.string(scalars)).unicodeScalars.map(\.value)
                }
                for segment in normalizedAddedTokens.split(normalized, atOrigin: atOrigin) {
                    switch segment {
                    case .token(let id):
                        body(.token(id))
                    case .text(let scalars, let atOrigin):
                        let start = [Piece(scalars: scalars, atOrigin: atOrigin)]
                        for piece in preTokenizer?.apply(start) ?? start where !piece.scalars.isEmpty {
                            body(.text(piece.scalars))
                        }
                    }
                }
            }
        }
    }

    /// A string of scalar values.
    static func string(_ scalars: [UInt32]) -> String {
        var view = String.UnicodeScalarView()
        for v in scalars { view.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        return String(view)
    }
}

extension HFTokenizer {
    /// The text `ids` stand for (Hugging Face's `decode(ids, skip_special_tokens=False)`).
    ///
    /// - Parameter ids: token ids from this tokenizer.
    /// - Throws: `TokenizerError.unknownID` for an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws(TokenizerError) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(for: id) else { throw .unknownID(id: id, vocabularySize: vocabularySize) }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    /// Each token decoded on its own (TransformerLens's `to_str_tokens`).
    ///
    /// - Parameter ids: token ids from this tokenizer.
    /// - Throws: `TokenizerError.unknownID` for an id outside the vocabulary.
    public func tokenStrings(_ ids: [Int]) throws(TokenizerError) -> [String] {
        var out: [String] = []
        out.reserveCapacity(ids.count)
        for id in ids { out.append(try decode([id])) }
        return out
    }

    /// The vocabulary spelling of `id` (e.g. `"Ġthe"`, `"▁the"`, `"<0x0A>"`), or nil if unknown.
    ///
    /// - Parameter id: a token id.
    public func token(for id: Int) -> String? {
        id >= 0 && id < idToToken.count ? idToToken[id] : nil
    }

    /// The id of a vocabulary spelling or added token, or nil.
    ///
    /// - Parameter token: a spelling as it appears in `tokenizer.json`.
    public func id(of token: String) -> Int? {
        addedTokenIDs[token] ?? model.vocabulary[token]
    }
}
