import ArgumentParser
import Foundation
import Mechanic

/// The `mechanic` command: it only lists subcommands; each does its work through library calls.
@main
struct MechanicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mechanic",
        abstract: "Mechanistic interpretability for transformer language models: hooks, circuits, attention sinks.",
        discussion: """
        Point a command at a Hugging Face model folder (config.json, model.safetensors or its shards, \
        tokenizer files) with --model. Supported families: GPT-2, GPT-NeoX/Pythia, Llama (also \
        Mistral, TinyLlama, SmolLM), Qwen2, Qwen3, Gemma 2 and Gemma 3 (text); \
        `mechanic inspect --families` lists them with their features.

        Examples:
          mechanic inspect --model ~/models/gpt2 --hooks
          mechanic inspect --model ~/models/pythia-160m
          mechanic tokenize --model ~/models/gpt2 "When Mary and John went to the store"
          mechanic run --model ~/models/gpt2 --top-k 5 "The war lasted from the year 1732 to the year 17"
          mechanic bench
        """,
        subcommands: [DiscoverCommand.self, EvaluateCommand.self, SweepCommand.self, ExportCommand.self, ReportCommand.self, DBCommand.self, SinksCommand.self, SAECommand.self, TasksCommand.self, RunCommand.self, InspectCommand.self, TokenizeCommand.self, TrainCommand.self, CardCommand.self, ResultsCommand.self, BenchCommand.self]
    )

    /// ArgumentParser's `main`, with standard output checked at the end (help text included):
    /// output that could not be written is an error, not a success.
    static func main() {
        useNativeBLASKernels()
        HeapReuse.enable()
        StandardOutput.ignoreBrokenPipes()
        do {
            var command = try parseAsRoot(NegativeNumbers.attach(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            guard exitCode(for: error) == .success else { exit(withError: error) }
            let text = fullMessage(for: error)
            if !text.isEmpty { print(text) }
        }
        StandardOutput.finish()
    }

    /// Re-executes this binary with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to generic
    /// kernels on a CPU it does not know (``BLASCore``): the products then run 2× faster or more.
    /// Nothing happens when the variable is already set (by the user, or by this re-execution).
    static func useNativeBLASKernels() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let core = BLASCore.nativeCoreType(current: BLASCore.current, flags: BLASCore.cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed; carry on with the kernels there are.
    }
}
