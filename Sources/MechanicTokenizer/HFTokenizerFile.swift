/// The parts of Hugging Face's `tokenizer.json` that `HFTokenizer` reads.
///
/// The model's vocabulary and merges are decoded with fixed types (they are most of the
/// file); the components whose shape depends on their `type` are kept as `JSONValue`
/// and interpreted by `Normalizer.read`, `PreTokenizerStep.read`, `TokenDecoder.read`
/// and `PostProcessorTemplate.read`.
struct HFTokenizerFile: Decodable {
    var model: Model
    var addedTokens: [AddedToken]?
    var normalizer: JSONValue?
    var preTokenizer: JSONValue?
    var decoder: JSONValue?
    var postProcessor: JSONValue?

    enum CodingKeys: String, CodingKey {
        case model, normalizer, decoder
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }

    /// `model`: a BPE vocabulary, merges and options. Other model types keep an empty
    /// vocabulary so that loading can refuse them by name.
    struct Model: Decodable {
        var type: String?
        var vocab: [String: Int] = [:]
        var merges: [TokenizerFile.Merge] = []
        var unkToken: String?
        var byteFallback: Bool?
        var fuseUnk: Bool?
        var ignoreMerges: Bool?
        var dropout: Double?
        var continuingSubwordPrefix: String?
        var endOfWordSuffix: String?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges, dropout
            case unkToken = "unk_token"
            case byteFallback = "byte_fallback"
            case fuseUnk = "fuse_unk"
            case ignoreMerges = "ignore_merges"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case endOfWordSuffix = "end_of_word_suffix"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(String.self, forKey: .type)
            guard type == nil || type == "BPE" else { return }
            vocab = try c.decode([String: Int].self, forKey: .vocab)
            merges = try c.decodeIfPresent([TokenizerFile.Merge].self, forKey: .merges) ?? []
            unkToken = try c.decodeIfPresent(String.self, forKey: .unkToken)
            byteFallback = try c.decodeIfPresent(Bool.self, forKey: .byteFallback)
            fuseUnk = try c.decodeIfPresent(Bool.self, forKey: .fuseUnk)
            ignoreMerges = try c.decodeIfPresent(Bool.self, forKey: .ignoreMerges)
            dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
            continuingSubwordPrefix = try c.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
            endOfWordSuffix = try c.decodeIfPresent(String.self, forKey: .endOfWordSuffix)
        }
    }

    /// An entry of `added_tokens`.
    struct AddedToken: Decodable {
        var id: Int
        var content: String
        var special: Bool?
        var normalized: Bool?
        var lstrip: Bool?
        var rstrip: Bool?
        var singleWord: Bool?

        enum CodingKeys: String, CodingKey {
            case id, content, special, normalized, lstrip, rstrip
            case singleWord = "single_word"
        }
    }
}

/// An added token as `HFTokenizer` needs it, from `tokenizer.json` or a SentencePiece model.
struct AddedTokenSpec: Sendable {
    var id: Int
    var content: String
    /// Matched on normalized text (`normalized: true`) rather than raw text.
    var normalized: Bool
    var leftStrip = false
    var rightStrip = false
}

/// The special ids a post-processor puts around a single sequence (`$A`).
struct PostProcessorTemplate: Equatable {
    var prefix: [Int]
    var suffix: [Int]

    /// Reads a `post_processor` object; nil for processors that add no tokens (`ByteLevel`).
    ///
    /// - Throws: `.unsupported` for types Mechanic does not implement, `.unexpectedJSON` for malformed ones.
    static func read(_ r: ComponentReader) throws(TokenizerError) -> PostProcessorTemplate? {
        switch try r.type() {
        case "ByteLevel":
            return nil
        case "Sequence":
            var found: PostProcessorTemplate?
            for (i, element) in try r.array("processors").enumerated() {
                if let t = try read(r.child("processors", i, element)) {
                    guard found == nil else { throw r.unsupported("with two processors that add tokens") }
                    found = t
                }
            }
            return found
        case "BertProcessing", "RobertaProcessing":
            guard let cls = r.value["cls"]?.array?.last?.int, let sep = r.value["sep"]?.array?.last?.int else {
                throw r.wrong("cls and sep should be [token, id] pairs")
            }
            return PostProcessorTemplate(prefix: [cls], suffix: [sep])
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            if case .object(let members)? = r.value["special_tokens"] {
                for (name, value) in members {
                    guard let ids = value["ids"]?.array?.map(\.int), !ids.contains(nil) else {
                        throw r.wrong("special_tokens.\(name).ids should be an array of integers")
                    }
                    specials[name] = ids.compactMap { $0 }
                }
            }
            var template = PostProcessorTemplate(prefix: [], suffix: [])
            var seenSequence = false
            for (i, item) in try r.array("single").enumerated() {
                if item["Sequence"] != nil {
                    seenSequence = true
                } else if let name = item["SpecialToken"]?["id"]?.string {
                    guard let ids = specials[name] else {
                        throw r.wrong("single[\(i)] names \(name.debugDescription), which special_tokens lacks")
                    }
                    if seenSequence { template.suffix += ids } else { template.prefix += ids }
                } else {
                    throw r.wrong("single[\(i)] should be a Sequence or a SpecialToken")
                }
            }
            return template
        case let other:
            throw r.unsupported("post-processor type \(other)")
        }
    }
}

/// What `HFTokenizer` reads from `tokenizer_config.json`: the special tokens and
/// whether BOS/EOS are added.
struct TokenizerConfig {
    var bosToken: String?
    var eosToken: String?
    var padToken: String?
    var addBOS: Bool?
    var addEOS: Bool?

    /// Reads the config's JSON.
    ///
    /// - Throws: `.unexpectedJSON` when a field has the wrong type.
    init(_ json: JSONValue, path: String) throws(TokenizerError) {
        guard case .object = json else { throw .unexpectedJSON(path: path, detail: "the top level should be an object") }
        func token(_ key: String) throws(TokenizerError) -> String? {
            guard let v = json[key], !v.isNull else { return nil }
            if let s = v.string { return s }
            if let s = v["content"]?.string { return s }
            throw .unexpectedJSON(path: path, detail: "\(key) should be a string or an object with content")
        }
        func flag(_ key: String) throws(TokenizerError) -> Bool? {
            guard let v = json[key], !v.isNull else { return nil }
            guard let b = v.bool else { throw .unexpectedJSON(path: path, detail: "\(key) should be true or false") }
            return b
        }
        bosToken = try token("bos_token")
        eosToken = try token("eos_token")
        padToken = try token("pad_token")
        addBOS = try flag("add_bos_token")
        addEOS = try flag("add_eos_token")
    }

    init() {}
}
