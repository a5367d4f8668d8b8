import Foundation

/// What every Mechanic tokenizer offers: text to ids and back, special ids, batches.
///
/// `GPT2Tokenizer` (GPT-2's vocab.json + merges.txt) and `HFTokenizer` (any supported
/// `tokenizer.json` or `tokenizer.model`) conform, so analyses can take `any Tokenizer`
/// and `loadTokenizer(folder:)` can pick the right one for a model folder.
public protocol Tokenizer: Sendable {
    /// Id prepended by `encode(_:prependBOS: true)`.
    var bosID: Int { get }
    /// End-of-sequence id.
    var eosID: Int { get }
    /// Number of rows an embedding matrix needs: one more than the largest id.
    var vocabularySize: Int { get }

    /// Token ids of `text` with the tokenizer's own special-token rule (Hugging Face's
    /// `tokenizer(text).input_ids`: a BOS for Llama, none for GPT-2).
    func encode(_ text: String) -> [Int]
    /// Token ids of `text` without the file's special tokens, optionally after `bosID`.
    func encode(_ text: String, prependBOS: Bool) -> [Int]
    /// The text `ids` stand for; throws `.unknownID` for an id outside the vocabulary.
    func decode(_ ids: [Int]) throws(TokenizerError) -> String
    /// Each id decoded on its own (TransformerLens's `to_str_tokens`).
    func tokenStrings(_ ids: [Int]) throws(TokenizerError) -> [String]
    /// The vocabulary spelling of `id`, or nil.
    func token(for id: Int) -> String?
    /// The id of a vocabulary spelling, or nil.
    func id(of token: String) -> Int?
    /// `texts` encoded and right-padded into one batch.
    func batch(_ texts: [String], prependBOS: Bool) throws(TokenizerError) -> TokenBatch
    /// The id of `text` when it is exactly one token (without special tokens), else nil.
    func singleTokenID(_ text: String) -> Int?
}

extension Tokenizer {
    public func singleTokenID(_ text: String) -> Int? {
        let ids = encode(text, prependBOS: false)
        return ids.count == 1 ? ids[0] : nil
    }
}

extension GPT2Tokenizer: Tokenizer {}

/// Loads whatever tokenizer a model folder has: `tokenizer.json` (as `HFTokenizer`), else
/// `vocab.json` + `merges.txt` (as `GPT2Tokenizer`), else SentencePiece's `tokenizer.model`
/// (as `HFTokenizer`). `tokenizer_config.json` is read alongside the first and last.
///
/// - Parameter folder: a model or tokenizer folder.
/// - Throws: `TokenizerError.noTokenizerFiles` if none is there, or any loading error.
public func loadTokenizer(folder: URL) throws(TokenizerError) -> any Tokenizer {
    let exists = { (name: String) in FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) }
    if exists("tokenizer.json") || (exists("tokenizer.model") && !(exists("vocab.json") && exists("merges.txt"))) {
        return try HFTokenizer(folder: folder)
    }
    if exists("vocab.json") || exists("merges.txt") {
        return try GPT2Tokenizer(folder: folder)
    }
    guard FileManager.default.fileExists(atPath: folder.path) else { throw .fileMissing(path: folder.path) }
    throw .noTokenizerFiles(folder: folder.path)
}
