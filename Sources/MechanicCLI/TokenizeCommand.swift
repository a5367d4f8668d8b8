import ArgumentParser
import Foundation
import Mechanic

/// `mechanic tokenize`: ids and token strings of prompts.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Show how prompts tokenize: ids and per-token strings.",
        discussion: """
        The tokenizer comes from --model, or from --tokenizer when you have only tokenizer files: \
        tokenizer.json (byte-level BPE of GPT-2, GPT-NeoX, Llama 3, Qwen; SentencePiece-style BPE \
        with byte fallback of Llama 2, Mistral, Gemma), else vocab.json + merges.txt (GPT-2), \
        else SentencePiece's tokenizer.model. Ids are exactly Hugging Face's.

        Examples:
          mechanic tokenize --tokenizer ~/models/gpt2 " Mary" "The war lasted from the year 1732"
          mechanic tokenize --model ~/models/gpt2 --no-prepend-bos --json "When Mary and John"
        """
    )

    @Option(help: ArgumentHelp("Model folder whose tokenizer to use.", valueName: "folder"))
    var model: String?

    @Option(help: ArgumentHelp("Folder with tokenizer.json, vocab.json + merges.txt, or tokenizer.model.", valueName: "folder"))
    var tokenizer: String?

    @OptionGroup var prompts: PromptOptions

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if (model == nil) == (tokenizer == nil) { throw ValidationError("Give exactly one of --model or --tokenizer.") }
    }

    struct Row: Codable {
        var text: String
        var ids: [Int]
        var tokens: [String]
    }

    func run() throws {
        let path = ((model ?? tokenizer)! as NSString).expandingTildeInPath
        let tok = try loadTokenizer(folder: URL(fileURLWithPath: path))
        let rows = try prompts.texts().map { text in
            let ids = tok.encode(text, prependBOS: prompts.prependBOS)
            return Row(text: text, ids: ids, tokens: try tok.tokenStrings(ids))
        }
        if json { return try printJSON(rows) }
        for row in rows {
            print("\(row.ids.count) tokens: \(row.text.debugDescription)")
            print("  ids     \(row.ids.map(String.init).joined(separator: " "))")
            print("  tokens  \(row.tokens.map { $0.debugDescription }.joined(separator: " "))")
        }
    }
}
