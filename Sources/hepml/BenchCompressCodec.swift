import ArgumentParser
import Foundation
import HEPMLCompress
import HEPMLCore
import HEPMLExperiment
import HEPMLROOT

/// `hepml bench compress-codec`: objects/s of `hepml compress compress` and `hepml compress
/// decompress` (to Parquet and to ROOT) on a seeded jet sample (`compress generate`), each command
/// run as a child process as a user runs it, median of `--repeats` rounds: the whole command's wall
/// time, CPU time and peak resident memory (the child's rusage), and the rates the commands print
/// for their core (compression without reading the source; decoding without writing the output);
/// with the model's multiply-adds per object. The model is trained on the sample for `--epochs` by
/// `compress train` (its quality does not change the cost per object) unless `--run` names one.
struct BenchCompressCodec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compress-codec",
        abstract: "Compression and decompression throughput (objects/s) of a compression model on generated jets.")

    @Option(help: "Events of the generated sample (about 4 jets each).") var events = 250_000
    @Option(help: "Seed of the sample and the training.") var seed: UInt64 = 1
    @Option(help: "Model trained when --run is not given.") var model = "AE_bn_LeakyReLU:4,16,3,16,4"
    @Option(help: "Normalization of the trained model.") var normalization = NormalizationScheme.atlas4D.rawValue
    @Option(help: "Training epochs of the model.") var epochs = 1
    @Option(name: .customLong("run"), help: "Run directory of a model trained on Jet_pt,Jet_eta,Jet_phi,Jet_mass (instead of training one).") var trainedRun: String?
    @Option(help: "Latent storage: float32, float16, bfloat16 or bits:N.") var latent = "float32"
    @Option(help: "Compression of the ROOT output (as `compress decompress --compression`).") var compression = "zlib:1"
    @Option(help: "Rounds; medians are printed.") var repeats = 5
    @Option(help: "Directory for the sample, model and outputs (kept; default: a fresh temporary directory, removed).") var directory: String?

    func run() throws {
        guard repeats > 0, events > 0, epochs > 0 else { throw ValidationError("--repeats, --events and --epochs must be positive") }
        guard let scheme = NormalizationScheme(rawValue: normalization) else {
            throw ValidationError("--normalization must be one of \(NormalizationScheme.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-compress-codec-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }
        let log = "\(base)/command-output.txt"

        let sample = "\(base)/jets.root", branches = "Jet_pt,Jet_eta,Jet_phi,Jet_mass"
        _ = try ChildCommand.run(["compress", "generate", "-o", sample, "--events", "\(events)", "--seed", "\(seed)"], output: log)
        let runDirectory = RunDirectory(trainedRun ?? "\(base)/model")
        if trainedRun == nil {
            _ = try ChildCommand.run(["compress", "train", "-i", sample, "--tree", "Events", "--branches", branches, "--normalization", scheme.rawValue,
                                      "--model", model, "--epochs", "\(epochs)", "--seed", "\(seed)", "--retrain", "-o", runDirectory.path], output: log)
        }
        let trained = try runDirectory.loadModel(), summary = trained.summary
        func multiplyAdds(_ block: String) -> Int { summary.layers.filter { $0.block == block }.reduce(0) { $0 + $1.multiplyAdds } }
        let data = try ObjectSource(path: sample, tree: "Events", branches: branches.split(separator: ",").map(String.init)).read().data
        let objects = data.objectCount
        print("# hepml bench compress-codec: \(Parallel.threadCount) threads, \(objects) jets of \(data.eventCount) events (seed \(seed)), "
              + "model \(trained.spec.name) (\(multiplyAdds("encoder")) multiply-adds per object to encode, "
              + "\(multiplyAdds("decoder")) to decode), latent \(latent), ROOT \(compression), median of \(repeats)")

        let compressed = "\(base)/compressed.parquet"
        let commands: [(name: String, core: String, arguments: [String])] = [
            ("compress", "compress, without reading",
             ["compress", "compress", "-i", sample, "--tree", "Events", "--branches", branches, "--model", runDirectory.path, "--latent", latent, "-o", compressed]),
            ("decompress to Parquet", "decompress to Parquet, decoding", ["compress", "decompress", compressed, "-o", "\(base)/decompressed.parquet"]),
            ("decompress to ROOT (\(compression))", "decompress to ROOT, decoding",
             ["compress", "decompress", compressed, "-o", "\(base)/decompressed.root", "--compression", compression]),
        ]
        var runs = [[ChildCommand.Outcome]](repeating: [], count: commands.count)
        var coreRates = [[Double]](repeating: [], count: commands.count)
        for _ in 0..<repeats {
            for (index, command) in commands.enumerated() {
                let outcome = try ChildCommand.run(command.arguments, output: log)
                // The commands print their core rate: "(R objects/s without reading)", "decoding R objects/s".
                guard let rate = outcome.output.range(of: " objects/s").flatMap({ outcome.output[..<$0.lowerBound].split(whereSeparator: { $0 == " " || $0 == "(" }).last })
                    .flatMap({ Double($0) }) else {
                    throw ValidationError("hepml \(command.arguments.joined(separator: " ")) printed no objects/s: \(outcome.output)")
                }
                runs[index].append(outcome)
                coreRates[index].append(rate)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func rates(_ values: [Double]) -> String {
            String(format: "%10.3g  (%9.3g – %9.3g)", median(values), values.min() ?? 0, values.max() ?? 0)
        }
        func pad(_ text: String) -> String { text.padding(toLength: 44, withPad: " ", startingAt: 0) }
        print(pad("stage") + "  objects/s  (min – max)              wall-s  CPU-s  peak-RSS-MiB")
        for (index, command) in commands.enumerated() {
            print(pad(command.core) + rates(coreRates[index]))
            let seconds = runs[index].map(\.seconds)
            print(pad("\(command.name), whole command") + rates(seconds.map { Double(objects) / max($0, 1e-9) })
                  + String(format: "  %6.3f  %5.2f  %6.0f", median(seconds), median(runs[index].map(\.cpuSeconds)),
                           Double(runs[index].map(\.peakBytes).max() ?? 0) / 1_048_576))
        }
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        print("sizes: \(size(sample)) B sample, \(size(compressed)) B compressed, \(size("\(base)/decompressed.parquet")) B Parquet, "
              + "\(size("\(base)/decompressed.root")) B ROOT")
    }
}

/// This executable run as a child process with its standard output in a file, timed, with its
/// own CPU time and peak resident memory from `wait4` (which Foundation's `Process` does not give).
private enum ChildCommand {
    struct Outcome {
        var output: String
        var seconds: Double
        var cpuSeconds: Double
        var peakBytes: Int
    }

    static func run(_ arguments: [String], output: String) throws -> Outcome {
        guard let executable = Bundle.main.executablePath else { throw ValidationError("the hepml executable's path is unknown") }
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let started = ResourceUsage.now()
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ValidationError("cannot run \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw ValidationError("waiting for hepml \(arguments.joined(separator: " ")): \(String(cString: strerror(errno)))") }
        }
        let seconds = ResourceUsage.now() - started
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ValidationError("hepml \(arguments.joined(separator: " ")) failed (wait status \(status)): \(printed)") }
        #if os(Linux)
        let peakBytes = Int(usage.ru_maxrss) * 1024
        #else
        let peakBytes = Int(usage.ru_maxrss)
        #endif
        let cpuSeconds = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
        return Outcome(output: printed, seconds: seconds, cpuSeconds: cpuSeconds, peakBytes: peakBytes)
    }
}
