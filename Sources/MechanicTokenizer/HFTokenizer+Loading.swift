import Foundation

extension HFTokenizer {
    /// Loads the tokenizer in `folder`: `tokenizer.json` if present, else SentencePiece's
    /// `tokenizer.model`; `tokenizer_config.json`, if present, names the special tokens and
    /// may switch BOS/EOS on or off.
    ///
    /// - Parameter folder: a model or tokenizer folder.
    /// - Throws: `TokenizerError.noTokenizerFiles` if it has neither file, or any loading error.
    public init(folder: URL) throws(TokenizerError) {
        let json = folder.appendingPathComponent("tokenizer.json")
        let model = folder.appendingPathComponent("tokenizer.model")
        let config = folder.appendingPathComponent("tokenizer_config.json")
        let configURL = FileManager.default.fileExists(atPath: config.path) ? config : nil
        if FileManager.default.fileExists(atPath: json.path) {
            try self.init(tokenizerJSONURL: json, configURL: configURL)
        } else if FileManager.default.fileExists(atPath: model.path) {
            try self.init(sentencePieceModelURL: model, configURL: configURL)
        } else if !FileManager.default.fileExists(atPath: folder.path) {
            throw .fileMissing(path: folder.path)
        } else {
            throw .noTokenizerFiles(folder: folder.path)
        }
    }

    /// Loads a Hugging Face `tokenizer.json` with a BPE model.
    ///
    /// - Parameters:
    ///   - url: the `tokenizer.json` file.
    ///   - configURL: its `tokenizer_config.json`, if any.
    /// - Throws: `TokenizerError`, including `.unsupported` for non-BPE models and
    ///   components Mechanic does not implement.
    public init(tokenizerJSONURL url: URL, configURL: URL? = nil) throws(TokenizerError) {
        let path = url.path
        let file = try GPT2Tokenizer.decodeJSON(HFTokenizerFile.self, from: url)
        let m = file.model
        if let type = m.type, type != "BPE" {
            throw .unsupported(path: path, feature: "model type \(type) (only BPE)")
        }
        if let prefix = m.continuingSubwordPrefix, !prefix.isEmpty {
            throw .unsupported(path: path, feature: "continuing_subword_prefix \(prefix.debugDescription)")
        }
        if let suffix = m.endOfWordSuffix, !suffix.isEmpty {
            throw .unsupported(path: path, feature: "end_of_word_suffix \(suffix.debugDescription)")
        }
        if let dropout = m.dropout, dropout > 0 {
            throw .unsupported(path: path, feature: "BPE dropout \(dropout)")
        }
        var merges: [MergeLine] = []
        merges.reserveCapacity(m.merges.count)
        for (index, merge) in m.merges.enumerated() {
            guard let pair = merge.pair else { throw .malformedMerge(path: path, line: index + 1, text: merge.text) }
            merges.append(MergeLine(left: pair.0, right: pair.1, line: index + 1))
        }
        let model = try BPEModel(
            vocabulary: m.vocab, merges: merges, unknownToken: m.unkToken, byteFallback: m.byteFallback ?? false,
            fuseUnknown: m.fuseUnk ?? false, ignoreMerges: m.ignoreMerges ?? false, path: path
        )
        func reader(_ value: JSONValue?, _ at: String) -> ComponentReader? {
            guard let value, !value.isNull else { return nil }
            return ComponentReader(value: value, at: at, path: path)
        }
        let normalizer = try reader(file.normalizer, "normalizer").map { r throws(TokenizerError) in try Normalizer.read(r) }
        let preTokenizer = try reader(file.preTokenizer, "pre_tokenizer").map { r throws(TokenizerError) in
            try PreTokenizerStep.read(r)
        }
        let decoder = try reader(file.decoder, "decoder").map { r throws(TokenizerError) in try TokenDecoder.read(r) }
        let template = try reader(file.postProcessor, "post_processor").flatMap { r throws(TokenizerError) in
            try PostProcessorTemplate.read(r)
        }
        var added: [AddedTokenSpec] = []
        for token in file.addedTokens ?? [] {
            if token.singleWord == true {
                throw .unsupported(path: path, feature: "added token \(token.content.debugDescription) with single_word")
            }
            added.append(AddedTokenSpec(
                id: token.id, content: token.content, normalized: token.normalized ?? !(token.special ?? false),
                leftStrip: token.lstrip ?? false, rightStrip: token.rstrip ?? false
            ))
        }
        try self.init(
            model: model, normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder, addedTokens: added,
            template: template, config: try Self.readConfig(configURL), path: path
        )
    }

    /// Reads `tokenizer_config.json`, or an empty config without one.
    static func readConfig(_ url: URL?) throws(TokenizerError) -> TokenizerConfig {
        guard let url else { return TokenizerConfig() }
        return try TokenizerConfig(GPT2Tokenizer.decodeJSON(JSONValue.self, from: url), path: url.path)
    }

    /// Validates and indexes the parts of a tokenizer; every loader ends here.
    ///
    /// - Parameters:
    ///   - model: the BPE model.
    ///   - normalizer: the normalizer, if any.
    ///   - preTokenizer: the pre-tokenizer, if any.
    ///   - decoder: the decoder, if any.
    ///   - addedTokens: tokens matched verbatim.
    ///   - template: the post-processor's special ids around a sequence, if it adds any.
    ///   - config: `tokenizer_config.json`'s settings.
    ///   - path: the file named by errors.
    init(
        model: BPEModel, normalizer: Normalizer?, preTokenizer: PreTokenizerStep?, decoder: TokenDecoder?,
        addedTokens: [AddedTokenSpec], template: PostProcessorTemplate?, config: TokenizerConfig, path: String
    ) throws(TokenizerError) {
        var idToToken: [String?] = []
        func place(_ token: String, _ id: Int, overriding: Bool) throws(TokenizerError) {
            guard id >= 0 else { throw .negativeID(path: path, token: token, id: id) }
            guard id <= Self.maxID else {
                throw .unexpectedJSON(path: path, detail: "token \(token.debugDescription) has id \(id), above the supported \(Self.maxID)")
            }
            if id >= idToToken.count { idToToken += [String?](repeating: nil, count: id + 1 - idToToken.count) }
            if let other = idToToken[id], other != token, !overriding {
                throw .duplicateID(path: path, id: id, tokens: [other, token].sorted())
            }
            idToToken[id] = token
        }
        for (token, id) in model.vocabulary.sorted(by: { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            try place(token, id, overriding: false)
        }
        var addedIDs: [String: Int] = [:]
        var raw: [AddedTokenEntry] = []
        var normalizedEntries: [AddedTokenEntry] = []
        for token in addedTokens {
            guard !token.content.isEmpty else { throw .unexpectedJSON(path: path, detail: "an added token with id \(token.id) is empty") }
            try place(token.content, token.id, overriding: true)
            addedIDs[token.content] = token.id
            let content = token.normalized ? (normalizer?.apply(token.content) ?? token.content) : token.content
            let entry = AddedTokenEntry(
                scalars: content.unicodeScalars.map(\.value), id: token.id, leftStrip: token.leftStrip,
                rightStrip: token.rightStrip
            )
            if token.normalized { normalizedEntries.append(entry) } else { raw.append(entry) }
        }
        for id in (template?.prefix ?? []) + (template?.suffix ?? []) where id < 0 || id >= idToToken.count || idToToken[id] == nil {
            throw .unexpectedJSON(path: path, detail: "post_processor adds id \(id), which has no token")
        }
        func lookup(_ token: String) throws(TokenizerError) -> Int {
            guard let id = addedIDs[token] ?? model.vocabulary[token] else {
                throw .missingSpecialToken(path: path, token: token)
            }
            return id
        }
        let bos = try config.bosToken.map { t throws(TokenizerError) in try lookup(t) } ?? template?.prefix.first
        var eos = try config.eosToken.map { t throws(TokenizerError) in try lookup(t) }
        if eos == nil {
            let names = ["</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|im_end|>"]
            eos = names.lazy.compactMap { addedIDs[$0] ?? model.vocabulary[$0] }.first ?? template?.suffix.last ?? bos
        }
        guard let eos else { throw .missingSpecialToken(path: path, token: "an end-of-sequence token (eos_token)") }

        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        self.rawAddedTokens = AddedTokenMatcher(raw)
        self.normalizedAddedTokens = AddedTokenMatcher(normalizedEntries)
        self.idToToken = idToToken
        self.addedTokenIDs = addedIDs
        self.bosID = bos ?? eos
        self.eosID = eos
        self.padID = try config.padToken.map { t throws(TokenizerError) in try lookup(t) } ?? eos
        switch config.addBOS {
        case true?: self.prefixIDs = bos.map { [$0] } ?? []
        case false?: self.prefixIDs = []
        case nil: self.prefixIDs = template?.prefix ?? []
        }
        switch config.addEOS {
        case true?: self.suffixIDs = [eos]
        case false?: self.suffixIDs = []
        case nil: self.suffixIDs = template?.suffix ?? []
        }
    }
}
