import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLLDMX

struct LDMXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ldmx",
        abstract: "LDMX ECal signal (A′) / photonuclear background classification with CNNs (docs/ldmx.md).",
        discussion: """
        generate → images → train → evaluate. Inputs are ROOT files with a tree ecalHits (eventNumber and jagged x, y, z in mm \
        and E in MeV) or upstream flattened hit tables (.npy, (n_hits, 7)), given as --signal MASS=FILE (mass in MeV, one of \
        \(SignalMass.all.map(String.init).joined(separator: ", "))) and --background FILE, or as the manifest.json that \
        `hepml ldmx generate` writes.
        """,
        subcommands: [LDMXGenerateCommand.self, LDMXImagesCommand.self, LDMXTrainCommand.self, LDMXEvaluateCommand.self])
}

/// The input files: a manifest, or --signal/--background with a geometry.
struct LDMXInputArguments: ParsableArguments {
    @Option(help: "JSON manifest of the input files (as written by `hepml ldmx generate`).") var manifest: String?
    @Option(help: "Signal file as MASS=FILE, mass in MeV (repeat for more files).") var signal: [String] = []
    @Option(parsing: .upToNextOption, help: "Background (PN) files.") var background: [String] = []
    @Option(help: "ECal geometry of --signal/--background files: v9 or v12 (a manifest names its own).") var geometry = "v9"
    @Option(help: "Seed of the masses drawn for background events.") var massSeed: UInt64 = 1

    func load() throws -> LDMXManifest {
        if let manifest {
            guard signal.isEmpty, background.isEmpty else { throw ValidationError("give either --manifest or --signal/--background") }
            return try LDMXManifest.read(path: manifest)
        }
        guard let version = ECalGeometry.Version(rawValue: geometry) else { throw ValidationError("--geometry must be v9 or v12") }
        return try LDMXManifest(geometry: version, signalArguments: signal, background: background)
    }

    /// Reads every file into one hit table and prints what was left out.
    func read() throws -> (manifest: LDMXManifest, table: ECalHitTable) {
        let manifest = try load()
        var reader = ECalHitReader(geometry: ECalGeometry(manifest.geometry))
        reader.seed = massSeed
        let start = ResourceUsage.now()
        let (table, report) = try reader.read(manifest)
        print("read " + report.summary + String(format: " in %.2f s (%d events kept)", ResourceUsage.now() - start, table.eventCount))
        return (manifest, table)
    }
}

struct LDMXGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a seeded synthetic data set: signal_<m>.root per A′ mass, background.root and manifest.json.")

    @Option(name: [.short, .customLong("output")], help: "Output directory.") var output = "ldmx-data"
    @Option(help: "ECal geometry: v9 or v12.") var geometry = "v9"
    @Option(help: "Triggered signal events per mass.") var eventsPerMass = 10_000
    @Option(help: "Triggered PN background events.") var backgroundEvents = 70_000
    @Option(help: "Comma-separated A′ masses in MeV.") var masses = SignalMass.all.map(String.init).joined(separator: ",")
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1

    func run() throws {
        guard let version = ECalGeometry.Version(rawValue: geometry) else { throw ValidationError("--geometry must be v9 or v12") }
        guard eventsPerMass > 0, backgroundEvents > 0 else { throw ValidationError("event counts must be positive") }
        var options = LDMXDataSet.Options()
        options.geometry = version
        options.masses = try masses.split(separator: ",").map { try SignalMass.parse(String($0)) }
        options.signalEventsPerMass = eventsPerMass
        options.backgroundEvents = backgroundEvents
        options.seed = seed
        let start = ResourceUsage.now()
        let manifest = try LDMXDataSet.generate(options, in: output)
        print("wrote \(manifest)" + String(format: " in %.1f s", ResourceUsage.now() - start))
    }
}

struct LDMXImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Bin hits into images (.npz: images [N, C, dim, dim], label, mass, source, event, binning).")

    @OptionGroup var inputs: LDMXInputArguments
    @Option(help: "xyz (three projections) or z_split (depth slices).") var format = "xyz"
    @Option(help: "Pixels per side.") var dim = 20
    @Option(help: "Depth slices of z_split.") var depth = 3
    @Flag(help: "z_split slices equal in log(z − front + 10 mm) instead of z.") var log = false
    @Flag(help: "Upstream's binning for comparison: the ±200 mm lattice on every axis, nearest lattice point (WRONG: see docs/ldmx.md).")
    var upstreamBinning = false
    @Option(name: [.short, .customLong("output")], help: "Output .npz.") var output = "ldmx-images.npz"
    @Option(help: "Also write the cell-level images [events, layers, rows, columns] of the first --cell-events events to this .npy.")
    var cellImages: String?
    @Option(help: "Events in --cell-images.") var cellEvents = 100

    func run() throws {
        guard let imageFormat = ImageBinning.Format(rawValue: format) else { throw ValidationError("--format must be xyz or z_split") }
        let (manifest, table) = try inputs.read()
        let binning = try ImageBinning(format: imageFormat, dim: dim, depth: depth, logarithmic: log, upstreamBinning: upstreamBinning,
                                       geometry: manifest.geometry)
        print("images: \(binning.description)")
        let start = ResourceUsage.now()
        let set = LDMXImageSet(table, binning: binning)
        let seconds = ResourceUsage.now() - start
        print(String(format: "binned %d events (%d hits) in %.3f s = %.0f events/s on %d threads", table.eventCount, table.hitCount, seconds,
                     Double(table.eventCount) / max(seconds, 1e-9), Parallel.threadCount))
        try set.write(to: output)
        print("wrote \(output)")
        if let cellImages {
            let geometry = ECalGeometry(manifest.geometry)
            let cells = ECalImages.cellImages(table, events: Array(0..<min(cellEvents, table.eventCount)), geometry: geometry)
            try NPY.write(try NDArray(cells.values, shape: [min(cellEvents, table.eventCount)] + cells.shape), to: cellImages)
            print("wrote \(cellImages): cell-level images \(cells.shape.map(String.init).joined(separator: "×")) per event (layer, lattice row along y, column along x)")
        }
    }
}

struct LDMXTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train ConvNet or ModelExtraInput on an image set (resumable; settings checked; --retrain starts over).")

    @Option(help: "Image set from `hepml ldmx images`.") var images = "ldmx-images.npz"
    @Option(name: [.short, .customLong("output")], help: "Run directory.") var output = "ldmx-run"
    @Option(help: "convnet or extra-input (ModelExtraInput: the A′ mass as a second input).") var model = "convnet"
    @Option(help: "Per-event normalization: none, uni-norm ((img + 0.1)/max) or max.") var normalization = "none"
    @Option(help: "Epochs.") var epochs = 5
    @Option(help: "Batch size.") var batchSize = 100
    @Option(help: "Adam learning rate.") var learningRate = 5e-4
    @Option(help: "Seed of weights, shuffling and split.") var seed: UInt64 = 1
    @Option(help: "Fraction of events for training (the rest test).") var trainFraction = 0.7
    @Flag(help: "Train again even if the run directory holds a model.") var retrain = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        var options = LDMXTrainingOptions()
        guard let kind = LDMXModelKind(rawValue: model) else { throw ValidationError("--model must be convnet or extra-input") }
        guard let scaling = ImageNormalization(rawValue: normalization) else { throw ValidationError("--normalization must be none, uni-norm or max") }
        guard epochs > 0, batchSize > 0, learningRate > 0 else { throw ValidationError("epochs, batch size and learning rate must be positive") }
        options.model = kind
        options.normalization = scaling
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.seed = seed
        options.trainFraction = trainFraction
        let set = try LDMXImageSet.read(path: images)
        print("images: \(set.count) events, \(set.binning.description)")
        let start = ResourceUsage.now()
        let outcome = try LDMXTraining.train(consume set, options: options, run: RunDirectory(output), retrain: retrain, showProgress: !quiet)
        if let history = outcome.history {
            for record in history.epochs {
                print(String(format: "epoch %d: train loss %.5f, test loss %.5f (%.1f s)", record.epoch, record.trainLoss,
                             record.validationLoss ?? .nan, record.seconds))
            }
        }
        print("model in \(output)" + String(format: " (%.1f s; %d training, %d test events)", ResourceUsage.now() - start,
                     outcome.split.training.count, outcome.split.test.count))
    }
}

struct LDMXEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "ROC, AUC, working points and efficiencies per A′ mass on the test events; HTML report; ONNX export.")

    @Option(help: "The image set the run was trained on.") var images = "ldmx-images.npz"
    @Option(name: .customLong("run"), help: "Run directory of `hepml ldmx train`.") var runDirectory = "ldmx-run"
    @Option(help: "The inputs' manifest: adds the hits to the displays of the most signal-like background events.") var manifest: String?
    @Option(help: "Seed of the background masses, as given to `images`.") var massSeed: UInt64 = 1
    @Option(help: "Event displays.") var displays = 4

    func run() throws {
        let set = try LDMXImageSet.read(path: images)
        var hits: ECalHitTable?
        if let manifest {
            let inputs = try LDMXManifest.read(path: manifest)
            var reader = ECalHitReader(geometry: ECalGeometry(inputs.geometry))
            reader.seed = massSeed
            let table = try reader.read(inputs).table
            guard table.eventNumbers == set.eventNumbers, table.sources == set.sources else {
                throw ValidationError("\(manifest) does not hold the events of \(images) (other files or another order)")
            }
            hits = table
        }
        let outcome = try LDMXEvaluator.evaluate(run: RunDirectory(runDirectory), images: set, hits: hits, displays: displays)
        for line in LDMXEvaluator.summaryLines(outcome.evaluation) { print(line) }
        print("report: \(outcome.reportPath)")
        print("ONNX: \(outcome.onnxPath)")
    }
}

/// `hepml bench ldmx-images`: image building from a loaded hit table against numpy.
struct BenchLDMXImages: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ldmx-images",
                                                    abstract: "LDMX image building (compare with bench/ldmx_images_reference.py).")

    @Option(help: "Synthetic events (half signal over all masses, half background).") var events = 200_000
    @Option(help: "Pixels per side of the xyz images.") var dim = 20
    @Option(help: "Python with numpy: also run bench/ldmx_images_reference.py on the same hits.") var python: String?
    @Option(help: "Path of bench/ldmx_images_reference.py.") var reference = "bench/ldmx_images_reference.py"
    @Option(help: "Directory for the hit table (kept; default: a temporary directory, removed).") var directory: String?

    func run() throws {
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-ldmx-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }
        let geometry = ECalGeometry(.v9)
        let generator = ECalEventGenerator(geometry: geometry, seed: 7)
        var table = ECalHitTable()
        let perMass = max(1, events / 2 / SignalMass.all.count)
        for (index, mass) in SignalMass.all.enumerated() { table.append(try generator.events(.signal(massMeV: mass), count: perMass, source: index)) }
        table.append(try generator.events(.background, count: max(1, events - perMass * SignalMass.all.count), source: SignalMass.all.count))
        let binning = try ImageBinning(format: .xyz, dim: dim)
        print("hepml bench ldmx-images: \(Parallel.threadCount) threads, \(table.eventCount) events, \(table.hitCount) hits, \(binning.description)")
        var start = ResourceUsage.now()
        var images = ECalImages.build(table, binning: binning)
        let fresh = ResourceUsage.now() - start
        var best = Double.infinity
        for _ in 0..<5 {
            start = ResourceUsage.now()
            try images.withUnsafeMutableBufferPointer { try ECalImages.build(table, binning: binning, into: $0) }
            best = min(best, ResourceUsage.now() - start)
        }
        let rate = Double(table.eventCount) / best
        print(String(format: "hepml, fresh buffer:   %.4f s = %10.0f events/s (with the page faults of %.0f MB)", fresh,
                     Double(table.eventCount) / fresh, Double(images.count * 4) / 1e6))
        print(String(format: "hepml, reused buffer:  %.4f s = %10.0f events/s (best of 5)", best, rate))
        let hitsPath = (base as NSString).appendingPathComponent("hits.npy")
        try NPY.write(try table.flatArray(), to: hitsPath)
        let r = binning.ranges
        let arguments = [reference, hitsPath, "--dim", String(dim), "--x", "\(r.x.lowerBound)", "\(r.x.upperBound)",
                         "--y", "\(r.y.lowerBound)", "\(r.y.upperBound)", "--z", "\(r.z.lowerBound)", "\(r.z.upperBound)"]
        guard let python else {
            print("compare: python \(arguments.joined(separator: " "))  (run with --directory to keep the hits)")
            return
        }
        let output = try runPeerScript(python: python, arguments)
        print(output, terminator: "")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
              let peer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] else {
            throw ValidationError("the reference script printed no result line")
        }
        for (name, key) in [("numpy histogramdd per event", "histogramdd_events_per_second"), ("upstream per-hit loop", "upstream_loop_events_per_second")] {
            if let peerRate = peer[key] { print("speed-up over \(name): " + String(format: "%.0f×", rate / peerRate)) }
        }
    }
}
