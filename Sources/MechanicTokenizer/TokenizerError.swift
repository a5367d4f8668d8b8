import Foundation

/// Everything that can go wrong loading a tokenizer or decoding ids.
///
/// Each case carries the file (or id) involved, and its description says what was
/// wrong and what to do, so a CLI can print it as one line. Encoding never fails:
/// every byte has a token, so any `String` encodes.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file the tokenizer needs does not exist.
    case fileMissing(path: String)
    /// A folder holds no tokenizer files (`tokenizer.json`, `vocab.json` + `merges.txt`, `tokenizer.model`).
    case noTokenizerFiles(folder: String)
    /// The file exists but could not be read (permissions, not UTF-8, …).
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON.
    case notJSON(path: String, reason: String)
    /// The JSON parses but does not have the expected shape.
    case unexpectedJSON(path: String, detail: String)
    /// A merge rule is not two tokens separated by one space (or a 2-element array).
    ///
    /// `line` is 1-based: a line of merges.txt, or an entry of tokenizer.json's `model.merges`.
    case malformedMerge(path: String, line: Int, text: String)
    /// A merge rule names a token (a side, or their concatenation) absent from the vocabulary.
    case mergeTokenMissing(path: String, line: Int, token: String)
    /// The same pair appears twice in the merges, so its rank is ambiguous.
    case duplicateMerge(path: String, line: Int, pair: String)
    /// Two tokens share an id.
    case duplicateID(path: String, id: Int, tokens: [String])
    /// A token has a negative id.
    case negativeID(path: String, token: String, id: Int)
    /// One of the 256 byte-level symbols is absent, so some text could not be encoded.
    case missingByteToken(path: String, byte: UInt8, token: String)
    /// `<|endoftext|>` is absent, so there is no BOS/EOS/padding id.
    case missingSpecialToken(path: String, token: String)
    /// The file asks for a feature Mechanic's tokenizers do not implement.
    case unsupported(path: String, feature: String)
    /// A SentencePiece `tokenizer.model` is not a valid model (truncated, not protobuf, …).
    case malformedModel(path: String, detail: String)
    /// An id has no token in this vocabulary.
    case unknownID(id: Int, vocabularySize: Int)
    /// `batch` was given no texts.
    case emptyBatch
    /// A text in a batch encodes to no tokens (empty text without a BOS).
    case emptySequence(index: Int)

    public var description: String {
        switch self {
        case .fileMissing(let path):
            return "\(path) does not exist; pass the GPT-2 tokenizer files (vocab.json and merges.txt, or tokenizer.json)"
        case .noTokenizerFiles(let folder):
            return "\(folder) holds no tokenizer.json, vocab.json + merges.txt or tokenizer.model; point at a model or tokenizer folder"
        case .unreadable(let path, let reason):
            return "cannot read \(path) (\(reason)); check the path and its permissions"
        case .notJSON(let path, let reason):
            return "\(path) is not valid JSON (\(reason)); re-download or re-export the tokenizer"
        case .unexpectedJSON(let path, let detail):
            return "\(path) is not a tokenizer file Mechanic can read: \(detail)"
        case .malformedMerge(let path, let line, let text):
            return "\(Self.merge(path, line)): \(text.debugDescription) is not two tokens separated by one space; fix or regenerate the merges"
        case .mergeTokenMissing(let path, let line, let token):
            return "\(Self.merge(path, line)) uses \(token.debugDescription), which is not in the vocabulary; vocab and merges must come from the same tokenizer"
        case .duplicateMerge(let path, let line, let pair):
            return "\(Self.merge(path, line)): \(pair.debugDescription) appears twice; remove the duplicate"
        case .duplicateID(let path, let id, let tokens):
            return "\(path): id \(id) is used by \(tokens.map(\.debugDescription).joined(separator: " and ")); ids must be unique"
        case .negativeID(let path, let token, let id):
            return "\(path): token \(token.debugDescription) has negative id \(id); ids must be 0 or more"
        case .missingByteToken(let path, let byte, let token):
            return "\(path): byte 0x\(String(byte, radix: 16, uppercase: true)) has no token \(token.debugDescription); a byte-level BPE vocabulary needs all 256 byte symbols"
        case .missingSpecialToken(let path, let token):
            return "\(path): \(token) is not in the vocabulary; it is needed as BOS, EOS or padding (GPT-2 uses <|endoftext|>)"
        case .unsupported(let path, let feature):
            return "\(path): \(feature) is not supported by Mechanic's tokenizers"
        case .malformedModel(let path, let detail):
            return "\(path) is not a usable SentencePiece model: \(detail); re-download or re-export tokenizer.model"
        case .unknownID(let id, let vocabularySize):
            return "token id \(id) is not in the vocabulary (size \(vocabularySize)); ids must come from this tokenizer"
        case .emptyBatch:
            return "a token batch needs at least one text"
        case .emptySequence(let index):
            return "text \(index) of the batch encodes to no tokens; pass non-empty text or prependBOS: true"
        }
    }
}

extension TokenizerError {
    /// Where merge number `line` is: a line of merges.txt, or an entry of tokenizer.json's `model.merges`.
    private static func merge(_ path: String, _ line: Int) -> String {
        path.hasSuffix(".json") ? "\(path) model.merges[\(line - 1)]" : "\(path) line \(line)"
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
