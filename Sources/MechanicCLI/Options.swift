import ArgumentParser
import Foundation
import Mechanic

/// `--model`: the checkpoint folder shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Hugging Face model folder (config.json, model.safetensors or its shards, tokenizer files) of any supported family: GPT-2, GPT-NeoX/Pythia, Llama, Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3, tracr-compiled programs.",
        valueName: "folder"))
    var model: String

    var folder: URL { URL(fileURLWithPath: (model as NSString).expandingTildeInPath) }

    /// Loads the model, its weights checked as `weights` says, and, when the folder has one, its tokenizer.
    func load(_ weights: WeightOptions) throws -> (Transformer, (any Tokenizer)?) {
        let model = try weights.load(folder: folder)
        let hasTokenizer = ["vocab.json", "tokenizer.json", "tokenizer.model"].contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        return (model, hasTokenizer ? try loadTokenizer(folder: folder) : nil)
    }

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--model \(model) is not a folder. Give the path of a Hugging Face model folder (config.json + model.safetensors).")
        }
    }

}

/// `--model` for commands that can also run without a model (`inspect --families`).
struct OptionalModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Hugging Face model folder (config.json, model.safetensors or its shards, tokenizer files) of any supported family.",
        valueName: "folder"))
    var model: String?

    /// The options as ``ModelOptions`` when `--model` was given.
    func required() throws -> ModelOptions {
        guard let model else { throw ValidationError("Give --model FOLDER.") }
        var options = ModelOptions()
        options.model = model
        try options.validate()
        return options
    }
}

/// `--allow-non-finite-weights`: how strictly a command that loads weights checks them.
struct WeightOptions: ParsableArguments {
    @Flag(help: "Load weights holding NaN or infinity instead of refusing the checkpoint (to look at a diverged run; the model's outputs will be NaN).")
    var allowNonFiniteWeights = false
    @Flag(help: "Load a checkpoint that holds tensors its config.json does not account for (e.g. a multimodal checkpoint's other towers), ignoring them.")
    var allowUnusedTensors = false

    /// The checkpoint in `folder`, refused if a weight is NaN or infinite, or if it holds tensors
    /// its config does not account for, unless the flags say otherwise.
    func load(folder: URL) throws -> Transformer {
        try CheckpointLoader.load(folder: folder, allowNonFiniteWeights: allowNonFiniteWeights, allowUnusedTensors: allowUnusedTensors)
    }
}

/// `--threads`: BLAS threads.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for matrix products and the other parallel kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads { try OptionLimits.checkThreads(threads) }
    }

    func apply() {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        Kernels.blasThreads = count
        Kernels.parallelism = max(1, count)
    }
}

/// Prints a value as pretty, key-sorted JSON on standard output.
///
/// NaN and infinities, which JSON has no numbers for, are written as the strings `"nan"`,
/// `"inf"` and `"-inf"`, so a diverged model or an empty statistic still prints.
func printJSON<T: Encodable>(_ value: T) throws {
    let data = try jsonEncoder().encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// The encoder of every JSON the CLI prints or writes: sorted, readable, and never failing on a
/// non-finite number, which it writes as the string "nan", "inf" or "-inf".
func jsonEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = nonFiniteAsStrings
    return encoder
}

/// NaN and infinities as the strings "nan", "inf" and "-inf": JSON has no such numbers, and a
/// result file is better written with them than not written at all.
let nonFiniteAsStrings = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

/// Writes a line to standard error (progress and diagnostics stay off stdout, which scripts read).
func printError(_ text: String) {
    // Not FileHandle.write, which traps when standard error is closed; a lost diagnostic is ignored.
    _ = StandardOutput.writeAll(text + "\n", to: STDERR_FILENO)
}

/// Prompts from arguments or a file, and how to tokenize them.
struct PromptOptions: ParsableArguments {
    @Argument(help: "Prompts (each one a sequence).")
    var prompts: [String] = []

    @Option(name: .customLong("prompts-file"), help: ArgumentHelp("Read prompts from a file, one per line.", valueName: "file"))
    var promptsFile: String?

    @Flag(inversion: .prefixedNo, help: "Prepend the tokenizer's BOS (<|endoftext|> for GPT-2, <s> for Llama 2, …), as TransformerLens does by default.")
    var prependBOS = true

    func validate() throws {
        if prompts.isEmpty && promptsFile == nil {
            throw ValidationError("Give at least one prompt, or --prompts-file with one prompt per line.")
        }
    }

    /// The prompt texts, in order.
    func texts() throws -> [String] {
        var all = prompts
        if let promptsFile {
            guard let text = try? String(contentsOfFile: promptsFile, encoding: .utf8) else {
                throw CLIError("cannot read --prompts-file \(promptsFile) as UTF-8 text")
            }
            all += text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        }
        if all.isEmpty { throw CLIError("no prompts: the prompts file is empty") }
        return all
    }
}

/// A one-line error for the user.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--model FOLDER` of the commands that default to the embedded reference model: the folder,
/// checked to hold a checkpoint, loaded with its tokenizer.
func loadModelFolder(_ path: String, _ weights: WeightOptions) throws -> (folder: URL, model: Transformer, tokenizer: any Tokenizer) {
    var folder = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    if path == DiscoverCommand.defaultModel || path == EdgesBench.defaultModel, let embedded = embeddedModelFolder(path) { folder = embedded }
    guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
        throw CLIError(path == DiscoverCommand.defaultModel
            ? "the embedded reference model is not at \(folder.path), nor beside this binary or in the repository it was built from; pass --model"
            : "--model \(path) is not a model folder (no config.json)")
    }
    return (folder, try weights.load(folder: folder), try loadTokenizer(folder: folder))
}

/// Where an embedded reference model (`relative`, e.g. the default) is: under the working
/// directory as the README runs it; else in a folder above this binary (`.build/release/mechanic`,
/// or an install that keeps `artifacts/` beside `bin/`); else in the repository this binary was
/// compiled from.
func embeddedModelFolder(_ relative: String = DiscoverCommand.defaultModel) -> URL? {
    var candidates = [URL(fileURLWithPath: relative)]
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<6 {
        candidates.append(directory.appendingPathComponent(relative))
        directory = directory.deletingLastPathComponent()
    }
    // This file is Sources/MechanicCLI/Options.swift of the repository.
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(repository.appendingPathComponent(relative))
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
}

/// `--task NAME|FILE`: a built-in task or a prompts file.
func circuitTask(_ name: String) throws -> any CircuitTask {
    TaskRegistry.names.contains(name) ? try TaskRegistry.named(name) : FileTask(url: URL(fileURLWithPath: name))
}

/// Rejects a `--task` that is neither a built-in task nor an existing file.
func validateTask(_ name: String) throws {
    if !TaskRegistry.names.contains(name) && !FileManager.default.fileExists(atPath: name) {
        throw ValidationError("unknown task \"\(name)\"; tasks: \(TaskRegistry.names.joined(separator: ", ")), or a prompts file.")
    }
}

extension SAEScoring.TrainingDraw: ExpressibleByArgument {}
extension SAEConfiguration.PreBiasStart: ExpressibleByArgument {}
extension EdgeAblation: ExpressibleByArgument {}
extension EdgeCircuit.Selection: ExpressibleByArgument {}
