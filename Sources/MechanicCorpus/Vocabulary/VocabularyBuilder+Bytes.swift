import MechanicTokenizer

extension VocabularyBuilder {
    /// The smallest GPT-2 vocabulary: the 256 byte tokens (ids 0–255, GPT-2's order) and
    /// `<|endoftext|>` (id 256), no merges.
    ///
    /// For models trained on token-level data (``InductionBlocks``) rather than text: every id
    /// below 256 is a token of its own, and the files still load in Mechanic and HF transformers.
    public static func bytesOnly() -> (vocab: [String: Int], merges: [(String, String)]) {
        var vocab = [String: Int](minimumCapacity: 257)
        for id in 0..<256 { vocab[ByteAlphabet.spelling([ByteAlphabet.bytesByID[id]])] = id }
        vocab[GPT2Tokenizer.endOfText] = 256
        return (vocab, [])
    }
}
