import Foundation
import MechanicTokenizer

/// Fuzzes the tokenizer files: GPT-2's `vocab.json` + `merges.txt`, Hugging Face's
/// `tokenizer.json` (read as a GPT-2 BPE and as a general `HFTokenizer`, with its
/// `tokenizer_config.json`) and SentencePiece's `tokenizer.model`.
///
/// The first byte picks the loader (its value modulo 4); the files follow, separated by NUL:
///
///     0  vocab.json \0 merges.txt \0 text          GPT2Tokenizer(vocabURL:mergesURL:)
///     1  tokenizer.json \0 text                    GPT2Tokenizer(tokenizerJSONURL:)
///     2  tokenizer.json \0 tokenizer_config.json \0 text   HFTokenizer(tokenizerJSONURL:configURL:)
///     3  tokenizer.model (binary, may hold NULs)   HFTokenizer(sentencePieceModelURL:)
///
/// The loaders take only URLs, so the files are written to a scratch folder on `/dev/shm`. A
/// tokenizer that loads then encodes the text (≤ 256 bytes; a fixed sentence when absent or not
/// UTF-8), decodes the ids back, and looks up ids it does not have, which must throw or return
/// `nil`, never trap.
///
/// Traps on a finding; returns on any correct answer (a thrown error included).
public func checkTokenizer(_ bytes: [UInt8]) {
    guard let (mode, rest) = FuzzInput(bytes).modeAndRest else { return }
    let folder = Scratch.emptyFolder("tokenizer")
    let tokenizer: any Tokenizer
    let text: String
    switch mode % 4 {
    case 0:
        let parts = FuzzInput.parts(rest, maxParts: 3)
        let vocab = Scratch.write(parts[0], to: "vocab.json", in: folder)
        let merges = Scratch.write(parts.count > 1 ? parts[1] : [], to: "merges.txt", in: folder)
        text = sampleText(parts.count > 2 ? parts[2] : [])
        guard let t = try? GPT2Tokenizer(vocabURL: vocab, mergesURL: merges) else { return }
        tokenizer = t
    case 1:
        let parts = FuzzInput.parts(rest, maxParts: 2)
        let json = Scratch.write(parts[0], to: "tokenizer.json", in: folder)
        text = sampleText(parts.count > 1 ? parts[1] : [])
        guard let t = try? GPT2Tokenizer(tokenizerJSONURL: json) else { return }
        tokenizer = t
    case 2:
        let parts = FuzzInput.parts(rest, maxParts: 3)
        let json = Scratch.write(parts[0], to: "tokenizer.json", in: folder)
        let config = parts.count > 1 && !parts[1].isEmpty ? Scratch.write(parts[1], to: "tokenizer_config.json", in: folder) : nil
        text = sampleText(parts.count > 2 ? parts[2] : [])
        guard let t = try? HFTokenizer(tokenizerJSONURL: json, configURL: config) else { return }
        tokenizer = t
    default:
        let model = Scratch.write(rest, to: "tokenizer.model", in: folder)
        text = sampleText([])
        guard let t = try? HFTokenizer(sentencePieceModelURL: model) else { return }
        tokenizer = t
    }
    exercise(tokenizer, text: text)
}

/// Everything a loaded tokenizer offers, on text and ids chosen from the input.
func exercise(_ tokenizer: any Tokenizer, text: String) {
    let ids = tokenizer.encode(text)
    let withBOS = tokenizer.encode(text, prependBOS: true)
    for id in ids + withBOS {
        precondition(id >= 0, "encode produced id \(id)")
    }
    _ = try? tokenizer.decode(ids)
    _ = try? tokenizer.tokenStrings(withBOS)
    for id in Set(ids.prefix(16)) {
        if let token = tokenizer.token(for: id) { _ = tokenizer.id(of: token) }
    }
    let size = tokenizer.vocabularySize
    for id in [-1, size, size + 1, Int.max, Int.min, tokenizer.bosID, tokenizer.eosID] {
        _ = tokenizer.token(for: id)
        _ = try? tokenizer.decode([id])
        _ = try? tokenizer.tokenStrings([id])
    }
    _ = tokenizer.singleTokenID(text)
    _ = try? tokenizer.batch([text, "", " a"], prependBOS: true)
}

