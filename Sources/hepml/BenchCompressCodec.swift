import ArgumentParser
import Foundation
import HEPMLCompress
import HEPMLCore
import HEPMLExperiment
import HEPMLROOT

/// `hepml bench compress-codec`: objects/s of `hepml compress compress` and `hepml compress
/// decompress` (to Parquet and to ROOT) on a seeded jet sample (`compress generate`), through the
/// calls the commands make, each stage timed with and without its I/O, median of `--repeats`
/// rounds; with the model's multiply-adds per object and each stage's peak resident memory. The
/// model is trained on the sample for `--epochs` by `hepml compress train` (its quality does not
/// change the cost per object) unless `--run` names a trained one.
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
        let rootCompression = try ROOTWriter.Compression(parsing: compression)
        var options = CompressionOptions()
        options.encoding = try LatentEncoding(parsing: latent)
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-compress-codec-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }

        // The sample and the model come from `compress generate` and `compress train` in child
        // processes, so that the heap they leave behind does not count in the stages' resident memory.
        func hepml(_ arguments: [String]) throws {
            let child = Process()
            child.executableURL = Bundle.main.executableURL
            child.arguments = arguments
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            child.waitUntilExit()
            guard child.terminationStatus == 0 else {
                throw ValidationError("hepml \(arguments.joined(separator: " ")) exited with status \(child.terminationStatus)")
            }
        }
        let sample = "\(base)/jets.root"
        try hepml(["compress", "generate", "-o", sample, "--events", "\(events)", "--seed", "\(seed)"])
        let source = ObjectSource(path: sample, tree: "Events", branches: ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"])
        let runDirectory = RunDirectory(trainedRun ?? "\(base)/model")
        if trainedRun == nil {
            try hepml(["compress", "train", "-i", sample, "--tree", "Events", "--branches", source.branches.joined(separator: ","),
                       "--normalization", scheme.rawValue, "--model", model, "--epochs", "\(epochs)", "--seed", "\(seed)", "--retrain",
                       "-o", runDirectory.path])
        }
        let trained = try runDirectory.loadModel(), summary = trained.summary
        func multiplyAdds(_ block: String) -> Int { summary.layers.filter { $0.block == block }.reduce(0) { $0 + $1.multiplyAdds } }
        let (objects, eventCount) = try { () throws -> (Int, Int) in
            let data = try source.read().data
            return (data.objectCount, data.eventCount)
        }()
        print("# hepml bench compress-codec: \(Parallel.threadCount) threads, \(objects) jets of \(eventCount) events (seed \(seed)), "
              + "model \(trained.spec.name) (\(multiplyAdds("encoder")) multiply-adds per object to encode, "
              + "\(multiplyAdds("decoder")) to decode), latent \(latent), ROOT \(compression), median of \(repeats)")

        let compressed = "\(base)/compressed.parquet", parquetOutput = "\(base)/decompressed.parquet", rootOutput = "\(base)/decompressed.root"
        var stages = StageTimes()
        for _ in 0..<repeats {
            try stages.measure(["compress, without reading", "compress, whole (reading the ROOT file)"]) {
                let started = ResourceUsage.now()
                let reading = try source.read()
                let result = try EventCompressor.compress(reading, source: source, model: runDirectory, to: compressed, options: options)
                return [result.seconds, ResourceUsage.now() - started]
            }
            try stages.measure(["decompress to Parquet, decoding", "decompress to Parquet, whole"]) {
                let outcome = try CompressedEventFile.decompress(compressed, to: parquetOutput)
                return [outcome.decodeSeconds, outcome.totalSeconds]
            }
            try stages.measure(["decompress to ROOT, decoding", "decompress to ROOT, whole (\(compression))"]) {
                let outcome = try CompressedEventFile.decompress(compressed, to: rootOutput, compression: rootCompression)
                return [outcome.decodeSeconds, outcome.totalSeconds]
            }
        }
        print("stage                                        objects/s  (min – max)              seconds  CPU-s  peak-RSS-MiB")
        for stage in stages.order {
            let seconds = stages.seconds[stage, default: []].sorted(), cpu = stages.cpuSeconds[stage, default: []].sorted()
            let rates = seconds.map { Double(objects) / max($0, 1e-9) }
            print(stage.padding(toLength: 42, withPad: " ", startingAt: 0)
                  + String(format: " %10.3g  (%9.3g – %9.3g)  %8.3f  %5.2f  %6.0f", rates[rates.count / 2], rates.last ?? 0, rates.first ?? 0,
                           seconds[seconds.count / 2], cpu[cpu.count / 2], Double(stages.peakBytes[stage, default: 0]) / 1_048_576))
        }
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        print("sizes: \(size(sample)) B sample, \(size(compressed)) B compressed, \(size(parquetOutput)) B Parquet, \(size(rootOutput)) B ROOT")
    }
}

/// Per stage of the benchmark: wall seconds of every round, the CPU seconds of the call the stage
/// belongs to, and that call's peak resident memory (on Linux the high-water mark is reset before
/// each call, so a stage does not report an earlier one's peak, though it includes what the
/// process holds between calls; elsewhere it is the process's).
private struct StageTimes {
    var order: [String] = []
    var seconds: [String: [Double]] = [:]
    var cpuSeconds: [String: [Double]] = [:]
    var peakBytes: [String: Int] = [:]

    /// Runs `call`, which returns one wall time per name in `names` (the stages it measures).
    mutating func measure(_ names: [String], _ call: () throws -> [Double]) throws {
        Self.resetPeakResident()
        let cpuStarted = Self.cpuSeconds()
        let times = try call()
        let cpu = Self.cpuSeconds() - cpuStarted, peak = Self.peakResident()
        for (name, time) in zip(names, times) {
            if seconds[name] == nil { order.append(name) }
            seconds[name, default: []].append(time)
            cpuSeconds[name, default: []].append(cpu)
            peakBytes[name] = max(peakBytes[name, default: 0], peak)
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    /// Linux: resets the process's VmHWM to what is resident now (writing 5 to clear_refs).
    static func resetPeakResident() {
        #if os(Linux)
        try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
        #endif
    }

    /// Linux: VmHWM of /proc/self/status (reset by `resetPeakResident`); elsewhere the process's peak.
    static func peakResident() -> Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            return kibibytes * 1024
        }
        #endif
        return ResourceUsage.peakResidentBytes()
    }
}
