/// The BPE model of a `tokenizer.json` (or a converted `tokenizer.model`): vocabulary,
/// ranked merges and what to do with characters the vocabulary lacks.
///
/// Each pre-tokenized piece starts as one symbol per Unicode scalar (for byte-level
/// files, the scalars are already the 256 byte characters). A scalar missing from the
/// vocabulary becomes its UTF-8 bytes as `<0xNN>` tokens when `byte_fallback` is on
/// (Llama 2, Mistral, Gemma), else the unknown token (consecutive ones fused when
/// `fuse_unk`), else it is dropped, exactly as Hugging Face's `BPE::merge_word` does.
/// `ignore_merges` (Llama 3) emits a piece that is itself a vocabulary entry whole.
struct BPEModel: Sendable {
    /// Vocabulary spelling → id.
    let vocabulary: [String: Int]
    /// Id of each single-scalar vocabulary entry.
    let scalarIDs: [UInt32: Int32]
    /// Ranked merge rules.
    let merges: MergeTable
    /// `<0xNN>` id of each byte `[256]`, -1 where missing; nil without byte fallback.
    let byteFallbackIDs: [Int32]?
    /// The unknown token's id, if the model has one.
    let unknownID: Int32?
    /// Whether consecutive unknown characters give one unknown token.
    let fuseUnknown: Bool
    /// Whether a piece found whole in the vocabulary skips the merges.
    let ignoreMerges: Bool
    /// Memo of results per piece, shared by copies.
    let cache = BPECache()

    /// Validates and indexes a BPE model.
    ///
    /// - Parameters:
    ///   - vocabulary: spelling → id.
    ///   - merges: merge rules in rank order, with their entry numbers for errors; a later
    ///     duplicate replaces the earlier rank, as in Hugging Face.
    ///   - unknownToken: `unk_token`, if any; must be in the vocabulary.
    ///   - byteFallback: whether unknown scalars become `<0xNN>` tokens.
    ///   - fuseUnknown: `fuse_unk`.
    ///   - ignoreMerges: `ignore_merges`.
    ///   - path: the file named by errors.
    init(
        vocabulary: [String: Int], merges: [MergeLine], unknownToken: String?, byteFallback: Bool,
        fuseUnknown: Bool, ignoreMerges: Bool, path: String
    ) throws(TokenizerError) {
        var scalarIDs: [UInt32: Int32] = [:]
        for (token, id) in vocabulary {
            guard id >= 0 else { throw .negativeID(path: path, token: token, id: id) }
            guard id <= GPT2Tokenizer.maxID else {
                throw .unexpectedJSON(path: path, detail: "token \(token.debugDescription) has id \(id), above the supported \(GPT2Tokenizer.maxID)")
            }
            let scalars = token.unicodeScalars
            if scalars.count == 1, let s = scalars.first { scalarIDs[s.value] = Int32(id) }
        }
        var rules: [(left: Int, right: Int, merged: Int)] = []
        rules.reserveCapacity(merges.count)
        for m in merges {
            guard let left = vocabulary[m.left] else { throw .mergeTokenMissing(path: path, line: m.line, token: m.left) }
            guard let right = vocabulary[m.right] else { throw .mergeTokenMissing(path: path, line: m.line, token: m.right) }
            guard let merged = vocabulary[m.left + m.right] else {
                throw .mergeTokenMissing(path: path, line: m.line, token: m.left + m.right)
            }
            rules.append((left, right, merged))
        }
        if let unknownToken {
            guard let id = vocabulary[unknownToken] else { throw .missingSpecialToken(path: path, token: unknownToken) }
            unknownID = Int32(id)
        } else {
            unknownID = nil
        }
        if byteFallback {
            byteFallbackIDs = (0..<256).map { b in
                vocabulary["<0x\(String(b, radix: 16, uppercase: true).leftPadded(2))>"].map { Int32($0) } ?? -1
            }
        } else {
            byteFallbackIDs = nil
        }
        self.vocabulary = vocabulary
        self.scalarIDs = scalarIDs
        self.merges = MergeTable(rules)
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
    }

    /// Appends the ids of one pre-tokenized piece.
    ///
    /// - Parameters:
    ///   - piece: the piece's scalars.
    ///   - naive: use `MergeTable.applyNaive` and no cache (tests compare both).
    ///   - ids: receives the ids.
    func tokenize(_ piece: [UInt32], naive: Bool = false, into ids: inout [Int]) {
        guard !piece.isEmpty else { return }
        var view = String.UnicodeScalarView()
        for v in piece { view.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        let text = String(view)
        if ignoreMerges, let id = vocabulary[text] {
            ids.append(id)
            return
        }
        let key = Array(text.utf8)
        if !naive, key.count <= BPECache.maxKeyLength, let cached = cache.lookup(key) {
            for id in cached { ids.append(Int(id)) }
            return
        }
        var symbols = initialSymbols(text)
        if naive {
            symbols = merges.applyNaive(symbols)
        } else {
            merges.apply(&symbols)
            if key.count <= BPECache.maxKeyLength { cache.store(key, symbols) }
        }
        for id in symbols { ids.append(Int(id)) }
    }

    /// One symbol per scalar, with byte fallback or unknown tokens for scalars outside the vocabulary.
    private func initialSymbols(_ text: String) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(text.unicodeScalars.count)
        var previousUnknown = false
        for scalar in text.unicodeScalars {
            if let id = scalarIDs[scalar.value] {
                symbols.append(id)
                previousUnknown = false
                continue
            }
            if let table = byteFallbackIDs {
                let bytes = Array(String(scalar).utf8).map { table[Int($0)] }
                if !bytes.contains(-1) {
                    symbols += bytes
                    previousUnknown = false
                    continue
                }
            }
            guard let unknownID else { continue }
            if !(fuseUnknown && previousUnknown) { symbols.append(unknownID) }
            previousUnknown = true
        }
        return symbols
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
