import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLCompress
import HEPMLCore
import HEPMLExperiment
import HEPMLROOT

struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Lossy compression of per-object event data with autoencoders (HEPAutoencoders): ROOT in, a self-describing file, ROOT back out.",
        discussion: """
        train a model on ROOT branches, a Parquet/CSV table or a PhenoML line file; compress writes one Parquet file \
        (latents, event structure, normalization, decoder, exact corrections of --max-error), or with --shard K/N one \
        part of the events that merge concatenates; decompress writes ROOT \
        with the original branch names, types and jagged structure, or Parquet; info prints the sizes; evaluate \
        compares with the original and the zstd/float16/mantissa-truncation baselines. See docs/compress.md.
        """,
        subcommands: [CompressGenerateCommand.self, CompressTrainCommand.self, CompressCompressCommand.self, CompressMergeCommand.self,
                      CompressDecompressCommand.self, CompressInfoCommand.self, CompressEvaluateCommand.self])
}

/// Where the per-object variables come from.
struct CompressInputArguments: ParsableArguments {
    @Option(name: [.short, .customLong("input")], help: "A .root file, a Parquet/CSV table, or a PhenoML/DarkMachines line file (.csv/.txt with ';').")
    var input: String
    @Option(help: "The tree of a ROOT input (e.g. Events, events, CollectionTree).")
    var tree: String?
    @Option(help: "Comma-separated branches or columns, in the model's order; ROOT accepts wildcards (Jet_*).")
    var branches: String = ""
    @Flag(help: "Keep only the first object of each event (upstream leading_only).")
    var leadingOnly = false

    var source: ObjectSource {
        ObjectSource(path: input, tree: tree, branches: branches.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                     leadingOnly: leadingOnly)
    }
}

struct CompressGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate",
                                                    abstract: "Write a seeded, physically shaped jet sample (NanoAOD layout: nJet, Jet_pt/eta/phi/mass).")
    @Option(name: [.short, .customLong("output")], help: "Output .root (tree Events) or .parquet file.")
    var output: String
    @Option(help: "Events.")
    var events = 100_000
    @Option(help: "Mean jets per event (Poisson).")
    var meanJets = 4.0
    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func run() throws {
        let data = JetGenerator.generate(events: events, meanJets: meanJets, seed: seed)
        try data.write(to: output, tree: "Events")
        print("wrote \(output): \(data.eventCount) events, \(data.objectCount) jets")
    }
}

struct CompressTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
                                                    abstract: "Train a compression autoencoder (fastai one-cycle, Adam, MSE on normalized variables).")
    @OptionGroup var input: CompressInputArguments
    @Option(help: "Model: AE_bn_LeakyReLU:4,200,200,3,200,200,4 (or AE_basic/AE_LeakyReLU/AE_bn with nodes), AE_3D_200, AE_3D_200_bn_drop:0.1, …")
    var model = "AE_bn_LeakyReLU:4,200,200,3,200,200,4"
    @Option(help: "Normalization: \(NormalizationScheme.allCases.map(\.rawValue).joined(separator: ", ")).")
    var normalization = "standard"
    @Option(help: "Training filters (comma-separated): atlas-27d, mc-jets, min-mass=VALUE.")
    var filter = ""
    @Option(name: [.short, .customLong("output")], help: "Run directory (model.json, weights.safetensors, compression.json, history, report/loss.png).")
    var output = "compress-model"
    @Option(help: "Epochs.")
    var epochs = 20
    @Option(help: "Batch size.")
    var batchSize = 4096
    @Option(help: "Maximum learning rate of the one-cycle schedule.")
    var lr = 1e-3
    @Option(help: "Decoupled weight decay (not on batch norms and biases).")
    var wd = 1e-2
    @Option(help: "Validation fraction of the seeded split.")
    var testFraction = 0.2
    @Option(help: "Seed of the split, the weights and the shuffling.")
    var seed: UInt64 = 41
    @Flag(help: "Train again even if the run directory holds a model.")
    var retrain = false
    @Flag(help: "Also write the trained autoencoder as <output>/model.onnx.")
    var onnx = false

    func run() throws {
        guard let scheme = NormalizationScheme(rawValue: normalization) else {
            throw ValidationError("--normalization must be one of \(NormalizationScheme.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var settings = CompressionTrainingSettings(source: input.source, normalization: scheme, model: model, epochs: epochs)
        settings.filters = try filter.split(separator: ",").map { try JetFilter(parsing: String($0)) }
        settings.batchSize = batchSize
        settings.maximumLearningRate = lr
        settings.weightDecay = wd
        settings.testFraction = testFraction
        settings.seed = seed
        let run = RunDirectory(output)
        let outcome = try CompressionTraining.run(settings, in: run, retrain: retrain)
        if onnx { try run.exportONNX(to: run.file("model.onnx")) }
        let summary = outcome.model.summary
        print("model \(model): \(summary.parameters) parameters; \(outcome.card.trainingObjects) training / \(outcome.card.validationObjects) validation objects")
        if let best = outcome.card.bestValidationLoss { print(String(format: "best validation MSE (normalized): %.4g", best)) }
        print("run directory: \(output)")
    }
}

struct CompressCompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compress", abstract: "Compress per-object variables with a trained model into one Parquet file.")
    @OptionGroup var input: CompressInputArguments
    @Option(help: "Run directory of `hepml compress train`.")
    var model: String
    @Option(name: [.short, .customLong("output")], help: "The compressed file (.parquet).")
    var output: String
    @Option(help: "Latent storage: float32, float16, bfloat16 or bits:N.")
    var latent = "float32"
    @Option(help: "Error bounds, comma-separated: NAME=EPS (relative for pT/E/m, absolute otherwise), NAME=rel:EPS, NAME=abs:EPS.")
    var maxError = ""
    @Option(help: "Tree name of decompressed ROOT files (default: the input's).")
    var outputTree: String?
    @Option(help: "Compress only part K of N of the events (K from 0 to N-1, contiguous blocks): writes <output>.part-K-of-N.parquet and its .manifest.json for `compress merge`.",
            transform: Shard.init(parsing:))
    var shard: Shard?

    func run() throws {
        var options = CompressionOptions()
        options.encoding = try LatentEncoding(parsing: latent)
        options.bounds = try maxError.split(separator: ",").map { try ErrorBound(parsing: String($0)) }
        options.tree = outputTree
        let source = input.source
        let started = Date()
        let reading = try source.read()
        let written: (result: CompressionResult, part: String)
        if let shard {
            written = try ShardedCompression.compressPart(reading, shard: shard, source: source, model: RunDirectory(model), output: output, options: options)
        } else {
            written = (try EventCompressor.compress(reading, source: source, model: RunDirectory(model), to: output, options: options), output)
        }
        let result = written.result, header = result.header
        print("compressed \(header.objects) objects of \(header.events) events in \(String(format: "%.2f", Date().timeIntervalSince(started))) s "
              + String(format: "(%.3g objects/s without reading)", Double(header.objects) / max(result.seconds, 1e-9)))
        for variable in header.variables where variable.bound != nil {
            print("  \(variable.name): \(variable.corrections) exact corrections (\(variable.bound?.text ?? ""))")
        }
        print(CompressInfoCommand.describe(path: written.part, header: header, parquet: try ParquetFile(path: written.part)))
    }
}

struct CompressMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge",
                                                    abstract: "Concatenate the parts of a sharded `compress compress` into the file an unsharded compression writes.")
    @Argument(help: "The parts (<output>.part-K-of-N.parquet, each with its .manifest.json beside it).")
    var parts: [String]
    @Option(name: [.short, .customLong("output")], help: "The merged compressed file (.parquet).")
    var output: String

    func run() throws {
        let header = try ShardedCompression.merge(parts: parts, output: output)
        print("merged \(parts.count) parts: \(header.objects) objects of \(header.events) events → \(output)")
    }
}

struct CompressDecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decompress",
                                                    abstract: "Decode a compressed file to ROOT (original branch names, types, jagged structure) or Parquet.")
    @Argument(help: "The compressed file.")
    var file: String
    @Option(name: [.short, .customLong("output")], help: "Output .root or .parquet file.")
    var output: String
    @Option(help: "Tree name (default: the one recorded at compression).")
    var tree: String?
    @Option(help: "Compression of a .root output: zlib, lzma, lz4, zstd or none, optionally :level (default zlib:1; lz4 writes fastest).")
    var compression = "zlib:1"

    func run() throws {
        let outcome = try CompressedEventFile.decompress(file, to: output, tree: tree, compression: try ROOTWriter.Compression(parsing: compression))
        print("wrote \(output): \(outcome.objects) objects of \(outcome.events) events; decoding "
              + String(format: "%.3g objects/s, %.2f s in all", Double(outcome.objects) / max(outcome.decodeSeconds, 1e-9), outcome.totalSeconds))
    }
}

struct CompressInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a compressed file's contents and honest sizes.")
    @Argument(help: "The compressed file.")
    var file: String

    func run() throws {
        let compressed = try CompressedEventFile(path: file)
        print(Self.describe(path: compressed.path, header: compressed.header, parquet: compressed.parquet))
    }

    static func describe(path: String, header: CompressedHeader, parquet: ParquetFile) -> String {
        let sizes = CompressedFileSizes(path: path, header: header, parquet: parquet)
        func line(_ name: String, _ bytes: Int) -> String {
            "  " + name.padding(toLength: 42, withPad: " ", startingAt: 0)
                + String(format: " %12ld B  %6.2f B/object", bytes, Double(bytes) / Double(max(header.objects, 1)))
        }
        var lines = ["\(path): \(header.objects) objects in \(header.events) events, \(header.jagged ? "jagged" : "flat"); model \(header.model), latent \(header.latentWidth) × \(header.encoding)"]
        for variable in header.variables {
            lines.append("  \(variable.name) (\(variable.type.rawValue)): x' = \(variable.transform.formula)"
                         + (variable.bound.map { "; bound \($0.text), \(variable.corrections) corrections" } ?? ""))
        }
        lines += [
            line("original, raw (values + counts)", sizes.originalRaw), line("original, as stored in the source", sizes.originalStored),
            line("compressed file", sizes.file), line("  latents (with the event structure)", sizes.latents),
            line("  exact corrections", sizes.corrections), line("  kept columns", sizes.kept),
            line("  footer (schema, header, decoder)", sizes.footer), line("    header JSON", sizes.headerJSON),
            line("    decoder weights (safetensors, base64)", sizes.decoderWeights), line("    decoder ONNX (base64)", sizes.decoderONNX),
            line("compressed file without the model", sizes.withoutModel),
            String(format: "  ratio (stored original / file): %.3f with the model, %.3f without; raw / file: %.3f, %.3f",
                   Double(sizes.originalStored) / Double(max(sizes.file, 1)), Double(sizes.originalStored) / Double(max(sizes.withoutModel, 1)),
                   Double(sizes.originalRaw) / Double(max(sizes.file, 1)), Double(sizes.originalRaw) / Double(max(sizes.withoutModel, 1))),
        ]
        return lines.joined(separator: "\n")
    }
}

struct CompressEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate",
                                                    abstract: "Residuals against the original, sizes and baselines (zstd, float16, mantissa truncation); HTML report.")
    @Argument(help: "The compressed file.")
    var file: String
    @Option(name: [.short, .customLong("input")], help: "The original data (default: the source recorded in the file, read the same way).")
    var input: String?
    @Option(help: "Report directory.")
    var report = "compress-report"
    @Option(help: "Run directory of the model, to time encoding as well (the file holds only the decoder).")
    var model: String?
    @Option(help: "A per-object integer branch or column of the source (e.g. Jet_hadronFlavour) whose values are the object types of the per-type summaries; PhenoML line files use their object types without it.")
    var objectType: String?

    func run() throws {
        let compressed = try CompressedEventFile(path: file)
        var source = compressed.header.source
        if let input { source.path = input }
        let original = try source.read().data
        let started = Date()
        let decoded = try compressed.decompress()
        let seconds = Date().timeIntervalSince(started)
        var encodeSeconds: Double?
        if let model {
            let encoder = try ObjectEncoder(run: RunDirectory(model), variables: original.variableNames, file: source.path)
            let encodeStarted = Date()
            _ = try encoder.latents(of: original, file: source.path)
            encodeSeconds = Date().timeIntervalSince(encodeStarted)
        }
        var types = ObjectTypes.phenoML(original)
        if let objectType {
            var typeSource = source
            typeSource.branches = [objectType]
            let typeData = try typeSource.read().data
            guard let variable = typeData.variables.first, typeData.objectCount == original.objectCount, typeData.eventOffsets == original.eventOffsets else {
                throw ValidationError("--object-type \(objectType) does not have one value per object of \(source.path)")
            }
            types = ObjectTypes(variable: variable)
        }
        let evaluation = try CompressionEvaluation(original: original, decoded: decoded, sizes: try CompressedFileSizes(compressed), decompressSeconds: seconds,
                                                   encodeSeconds: encodeSeconds, types: types)
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        print(pad("variable", 22) + pad("residual", 14) + "  mean ± SEM              σ ± err                  q0.1%        q99.9%")
        for r in evaluation.residuals {
            print(pad(r.variable, 22) + pad(r.relative ? "(out−in)/in" : "out−in", 14)
                  + String(format: "%12.3g ± %-8.2g %12.4g ± %-8.2g %12.4g %12.4g", r.mean, r.standardErrorOfMean, r.sigma, r.sigmaError,
                           r.quantiles[0], r.quantiles[6]))
        }
        func sigmas(_ values: [Double]) -> String { values.map { String(format: "%.3g", $0) }.joined(separator: " ") }
        print(pad("autoencoder (without model)", 30) + String(format: " %12ld B  σ: ", evaluation.sizes.withoutModel) + sigmas(evaluation.residuals.map(\.sigma)))
        print(pad("autoencoder (with model)", 30) + String(format: " %12ld B", evaluation.sizes.file))
        for baseline in evaluation.baselines {
            print(pad(baseline.name, 30) + String(format: " %12ld B  σ: ", baseline.bytes) + sigmas(baseline.sigmas) + "  (\(baseline.detail))")
        }
        print(String(format: "decoding %.1f ns/object", seconds / Double(max(original.objectCount, 1)) * 1e9)
              + (encodeSeconds.map { String(format: ", encoding %.1f ns/object", $0 / Double(max(original.objectCount, 1)) * 1e9) } ?? ""))
        for type in evaluation.byType {
            print(pad("  " + type.type, 14) + pad("\(type.objects) objects", 16) + "σ: " + sigmas(type.residuals.map(\.sigma)))
        }
        let index = try evaluation.writeReport(original: original, decoded: decoded, title: "Event compression: \(compressed.header.model)", to: report)
        print("report: \(index)")
    }
}
