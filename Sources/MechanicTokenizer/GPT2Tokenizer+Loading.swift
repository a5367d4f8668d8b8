import Foundation

extension GPT2Tokenizer {
    /// Loads GPT-2's `vocab.json` and `merges.txt`.
    ///
    /// - Parameters:
    ///   - vocabURL: JSON object mapping byte-level token spellings to ids.
    ///   - mergesURL: merge rules, one `left right` pair per line in rank order; a
    ///     leading `#version` line is skipped.
    /// - Throws: `TokenizerError` naming the file and the problem.
    public init(vocabURL: URL, mergesURL: URL) throws(TokenizerError) {
        let vocabulary = try Self.decodeJSON([String: Int].self, from: vocabURL)
        let merges = try Self.readMergesText(mergesURL)
        try self.init(
            vocabulary: vocabulary,
            merges: merges,
            addedTokens: [:],
            vocabPath: vocabURL.path,
            mergesPath: mergesURL.path
        )
    }

    /// Loads a Hugging Face fast-tokenizer file (`tokenizer.json`) holding a GPT-2 style BPE.
    ///
    /// Merges may be `"left right"` strings or `["left", "right"]` pairs (newer files).
    /// Added tokens are matched verbatim in text, like `<|endoftext|>`.
    ///
    /// - Parameter tokenizerJSONURL: the `tokenizer.json` file.
    /// - Throws: `TokenizerError`, including `.unsupported` for non-BPE models,
    ///   normalizers, or options GPT-2 does not use.
    public init(tokenizerJSONURL url: URL) throws(TokenizerError) {
        let file = try Self.decodeJSON(TokenizerFile.self, from: url)
        let path = url.path
        try file.checkSupported(path: path)
        var merges: [MergeLine] = []
        merges.reserveCapacity(file.model.merges.count)
        for (index, merge) in file.model.merges.enumerated() {
            guard let pair = merge.pair else {
                throw .malformedMerge(path: path, line: index + 1, text: merge.text)
            }
            merges.append(MergeLine(left: pair.0, right: pair.1, line: index + 1))
        }
        var added: [String: Int] = [:]
        for token in file.addedTokens ?? [] { added[token.content] = token.id }
        try self.init(
            vocabulary: file.model.vocab,
            merges: merges,
            addedTokens: added,
            vocabPath: path,
            mergesPath: path
        )
    }

    /// Loads the tokenizer in `folder`: `vocab.json` + `merges.txt` if both are
    /// present, else `tokenizer.json`.
    ///
    /// - Parameter folder: a GPT-2 tokenizer or model folder.
    /// - Throws: `TokenizerError.noTokenizerFiles` if neither form is there, or any loading error.
    public init(folder: URL) throws(TokenizerError) {
        let vocab = folder.appendingPathComponent("vocab.json")
        let merges = folder.appendingPathComponent("merges.txt")
        let json = folder.appendingPathComponent("tokenizer.json")
        let exists = { (url: URL) in FileManager.default.fileExists(atPath: url.path) }
        if exists(vocab), exists(merges) {
            try self.init(vocabURL: vocab, mergesURL: merges)
        } else if exists(json) {
            try self.init(tokenizerJSONURL: json)
        } else if exists(vocab) {
            throw .fileMissing(path: merges.path)
        } else if exists(merges) {
            throw .fileMissing(path: vocab.path)
        } else if !exists(folder) {
            throw .fileMissing(path: folder.path)
        } else {
            throw .noTokenizerFiles(folder: folder.path)
        }
    }

    /// Reads `merges.txt`: skips `#version` lines and trailing blank lines, splits each line at its one space.
    static func readMergesText(_ url: URL) throws(TokenizerError) -> [MergeLine] {
        let data = try readFile(url)
        let carriageReturn = UInt8(ascii: "\r")
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { $0.last == carriageReturn ? $0.dropLast() : $0 }
        while lines.last?.isEmpty == true { lines.removeLast() }
        var merges: [MergeLine] = []
        merges.reserveCapacity(lines.count)
        for (index, bytes) in lines.enumerated() {
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw .unreadable(path: url.path, reason: "line \(index + 1) is not UTF-8")
            }
            if line.hasPrefix("#version") { continue }
            let parts = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .malformedMerge(path: url.path, line: index + 1, text: line)
            }
            merges.append(MergeLine(left: String(parts[0]), right: String(parts[1]), line: index + 1))
        }
        return merges
    }

    /// The contents of `url`, or `.fileMissing` / `.unreadable`.
    static func readFile(_ url: URL) throws(TokenizerError) -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .fileMissing(path: url.path) }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Decodes JSON from `url`, telling "not JSON" apart from "JSON of the wrong shape".
    static func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL) throws(TokenizerError) -> T {
        let data = try readFile(url)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw describe(error, path: url.path, data: data)
        } catch {
            throw .notJSON(path: url.path, reason: "\(error)")
        }
        if let duplicate = JSONDuplicateKeys.first(in: data) { throw .unexpectedJSON(path: url.path, detail: "\(duplicate)") }
        return value
    }

    private static func describe(_ error: DecodingError, path: String, data: Data) -> TokenizerError {
        func at(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            // JSONDecoder also reports a fractional id this way; tell that apart from broken JSON.
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil {
                return .unexpectedJSON(path: path, detail: "a value has the wrong type (ids must be integers)")
            }
            return .notJSON(path: path, reason: context.debugDescription)
        case .dataCorrupted(let context):
            return .unexpectedJSON(path: path, detail: "\(at(context.codingPath)): \(context.debugDescription)")
        case .typeMismatch(let type, let context):
            return .unexpectedJSON(path: path, detail: "\(at(context.codingPath)) should be \(type)")
        case .valueNotFound(let type, let context):
            return .unexpectedJSON(path: path, detail: "\(at(context.codingPath)) should be \(type), found null")
        case .keyNotFound(let key, let context):
            return .unexpectedJSON(path: path, detail: "\(at(context.codingPath + [key])) is missing")
        @unknown default:
            return .unexpectedJSON(path: path, detail: "\(error)")
        }
    }
}
