import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLONNX
import HEPMLTensor
@testable import HEPMLHCAL
import HEPMLROOT
import HEPMLTestSupport
import Testing

@Suite struct HCALGeometryTests {
    @Test func indexMappingSkipsIetaZeroAndRoundTrips() {
        #expect(HCALIndex.etaIndex(-32) == 0 && HCALIndex.etaIndex(-1) == 31 && HCALIndex.etaIndex(1) == 32 && HCALIndex.etaIndex(32) == 63)
        #expect(HCALIndex.etaIndex(0) == nil)
        for index in 0..<64 { #expect(HCALIndex.etaIndex(HCALIndex.ieta(ofIndex: index)) == index) }
        #expect(HCALIndex.rbx(iphi: 71) == 1 && HCALIndex.rbx(iphi: 2) == 1 && HCALIndex.rbx(iphi: 3) == 2 && HCALIndex.rbx(iphi: 70) == 18)
    }

    @Test func geometryMaskCoversTheSubdetectorSymmetrically() {
        let he = HCALMask(geometry: .he)
        #expect(he.active.count == 64 * 72 * 7)
        func active(_ mask: HCALMask, _ ieta: Int, _ iphi: Int, _ depth: Int) -> Bool {
            mask.active[HCALIndex.flat(eta: HCALIndex.etaIndex(ieta) ?? 0, phi: iphi - 1, depth: depth - 1, depths: mask.depthCount)]
        }
        #expect(active(he, 20, 5, 1) && active(he, -20, 5, 1))
        #expect(!active(he, 20, 72, 1), "iphi 72 is lost by the analyzer's axis")
        #expect(active(he, 22, 3, 2) && !active(he, 22, 4, 2), "double-phi rings read out odd iphi only")
        #expect(!active(he, 10, 5, 1) && !active(he, 30, 5, 1))
        let hb = HCALMask(geometry: .hb)
        #expect(hb.active.count == 64 * 72 * 4 && active(hb, -1, 1, 4) && !active(hb, 17, 1, 1))
        #expect(he.active == HCALMask(subdetector: .he, mirrored: he).active)
    }

    @Test func emapCSVBuildsTheMaskOnBothSides() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-emap")
        let path = directory.appendingPathComponent("emap.csv").path
        try "#, Det, type/depth, RBX, Eta, Phi\n1, HE, 2, HEP07, 20, 5\n2, CALIB_HE, 1, HEP07, 20, 6\n3, HB, 1, HBM01, 3, 1\n4, HE, -999, HEM01, 18, 1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let mask = try HCALMask(emapCSV: path, subdetector: .he)
        #expect(mask.activeCount == 2)
        #expect(mask.active[HCALIndex.flat(eta: HCALIndex.etaIndex(-20) ?? 0, phi: 4, depth: 1, depths: 7)])
        try "Det,RBX\nHE,HEP01\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: FileFormatError.self) { try HCALMask(emapCSV: path, subdetector: .he) }
    }
}

extension HCALMask {
    /// The mask with ieta mirrored (for the symmetry check).
    init(subdetector: HCALSubdetector, mirrored mask: HCALMask) {
        var active = mask.active
        for eta in 0..<64 {
            let mirror = HCALIndex.etaIndex(-HCALIndex.ieta(ofIndex: eta)) ?? eta
            for phi in 0..<72 {
                for depth in 0..<mask.depthCount {
                    active[HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: mask.depthCount)]
                        = mask.active[HCALIndex.flat(eta: mirror, phi: phi, depth: depth, depths: mask.depthCount)]
                }
            }
        }
        self = HCALMask(geometry: subdetector)
        self.active = active
    }
}

@Suite struct HCALAnalyzerFileTests {
    /// A file with one known count per depth at (LS 3, ieta ±20, iphi 5) and 4 events in LS 3, 2 in LS 4.
    func writeKnownFile(_ path: String, depths: Int = 7) throws {
        try HCALAnalyzerWriter.write(to: path, run: 357_000, numEvents: [3: 4, 4: 2], depths: depths) { depth, contents in
            contents[HCALAnalyzerWriter.cell(ls: 3, ieta: 20, iphi: 5)] = Double(depth)
            contents[HCALAnalyzerWriter.cell(ls: 3, ieta: -20, iphi: 5)] = Double(10 + depth)
            contents[HCALAnalyzerWriter.cell(ls: 4, ieta: 20, iphi: 72)] = 99
        }
    }

    @Test func readsBinsIntoTheEmapLayout() throws {
        let path = try TestEnvironment.temporaryDirectory("hcal-file").appendingPathComponent("run.root").path
        try writeKnownFile(path)
        let maps = try HCALRunMaps(file: path, subdetector: .he, mask: HCALMask(geometry: .he))
        #expect(maps.run == 357_000 && maps.lumisections == [3, 4] && maps.numEvents == [4, 2])
        let width = maps.channelCount
        for depth in 1...6 {
            #expect(maps.occupancy[HCALIndex.flat(eta: 51, phi: 4, depth: depth - 1, depths: 7)] == Float(depth))
            #expect(maps.occupancy[HCALIndex.flat(eta: 12, phi: 4, depth: depth - 1, depths: 7)] == Float(10 + depth))
        }
        #expect(maps.occupancy[HCALIndex.flat(eta: 51, phi: 4, depth: 6, depths: 7)] == 0, "ieta 20 has no depth 7: masked")
        #expect(maps.occupancy[width...].allSatisfy { $0 == 0 }, "iphi 72 falls into the overflow")
    }

    @Test func badInputsAreErrorsNamingFileAndObject() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-bad")
        let mask = HCALMask(geometry: .he)
        // A missing depth.
        let missing = directory.appendingPathComponent("missing.root").path
        try writeKnownFile(missing, depths: 3)
        #expect { try HCALRunMaps(file: missing, subdetector: .he, mask: mask) } throws: { error in
            "\(error)".contains("missing.root") && "\(error)".contains("hist3D_depth4")
        }
        // Another binning.
        let binning = directory.appendingPathComponent("binning.root").path
        let writer = ROOTWriter(path: binning)
        try writer.write(Histogram(className: "TH3I", name: "hist3D_depth1", xAxis: Axis(binCount: 100, minimum: 0, maximum: 100),
                                   yAxis: Axis(binCount: 64, minimum: -32, maximum: 32), zAxis: Axis(binCount: 72, minimum: 0, maximum: 72),
                                   contents: [Double](repeating: 0, count: 102 * 66 * 74), entries: 0), to: "Hcal4DQMAnalyzer/hist3D_depth1")
        try writer.writeTree([TreeBranchData(ColumnArray(name: "RunNum", values: .int32([1]))), TreeBranchData(ColumnArray(name: "LumiSec", values: .int32([1])))],
                             to: HCALAnalyzerLayout.eventTree)
        try writer.close()
        #expect { try HCALRunMaps(file: binning, subdetector: .he, mask: mask) } throws: { error in
            "\(error)".contains("binning.root") && "\(error)".contains("hist3D_depth1") && "\(error)".contains("100 bins")
        }
        // An empty event tree.
        let empty = directory.appendingPathComponent("empty.root").path
        try HCALAnalyzerWriter.write(to: empty, run: 1, numEvents: [:]) { _, _ in }
        #expect { try HCALRunMaps(file: empty, subdetector: .he, mask: mask) } throws: { error in
            "\(error)".contains("empty.root") && "\(error)".contains("evttree")
        }
        // A truncated file.
        let whole = directory.appendingPathComponent("whole.root").path
        try writeKnownFile(whole)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        let truncated = directory.appendingPathComponent("truncated.root").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect { try HCALRunMaps(file: truncated, subdetector: .he, mask: mask) } throws: { error in "\(error)".contains("truncated.root") }
    }
}

@Suite struct HCALCppROOTTests {
    /// C++ ROOT fills TH3I and evttree exactly as Hcal4DQMAnalyzer does (scripts/cpp-root/write_hcal.py);
    /// HEPML must find every count, Emap-adjusted, and nothing else.
    @Test(.requiresCppROOT) func readsTheAnalyzerLayoutWrittenByCppROOT() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-cpp-root")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/cpp-root/write_hcal.py").path
        let result = try TestEnvironment.run(try TestEnvironment.cppROOTPython(), [script, directory.path], environment: ["PYTHONWARNINGS": "ignore"])
        try #require(result.status == 0, "write_hcal.py failed: \(result.output)")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json"))) as? [String: Any])
        let fills = try #require(expected["fills"] as? [[Int]])
        let events = try #require(expected["events"] as? [String: Int])
        let everything = HCALMask(subdetector: .he, active: (0..<(64 * 72 * 7)).map { ($0 / 7) % 72 != 71 })
        let maps = try HCALRunMaps(file: directory.appendingPathComponent("hcal.root").path, subdetector: .he, mask: everything)
        #expect(maps.run == 362_696)
        #expect(maps.lumisections == events.keys.compactMap(Int.init).sorted())
        #expect(maps.numEvents == maps.lumisections.map { events["\($0)"] ?? -1 })
        var truth = [Float](repeating: 0, count: maps.occupancy.count)
        for fill in fills where fill[2] != 72 {
            guard let row = maps.lumisections.firstIndex(of: fill[0]), let eta = HCALIndex.etaIndex(fill[1]) else { continue }
            truth[row * maps.channelCount + HCALIndex.flat(eta: eta, phi: fill[2] - 1, depth: fill[3] - 1, depths: 7)] += Float(fill[4])
        }
        #expect(maps.occupancy == truth)
    }
}

/// A tiny generated HE data set: raw analyzer files in `directory`/raw, the data set in
/// `directory`/dataset, training LS 1…`lastTraining` and the rest for testing.
func smallDataset(in directory: URL, runs: Int, lumisections: Int, eventsPerLumisection: Double, faults: Bool = false,
                  lastTraining: Int) throws -> (files: [String], dataset: HCALDataset) {
    var generation = HCALSyntheticData.Options()
    generation.runs = runs
    generation.lumisections = lumisections
    generation.eventsPerLumisection = eventsPerLumisection
    generation.faults = faults
    let files = try HCALSyntheticData(options: generation).write(to: directory.appendingPathComponent("raw").path)
    let dataset = try HCALDataset.prepare(files: files, output: directory.appendingPathComponent("dataset").path, subdetector: .he,
                                          trainingRange: .init(first: 1, last: lastTraining), testRange: .init(first: lastTraining + 1, last: -1))
    return (files, dataset)
}

@Suite struct HCALWorkflowTests {
    @Test func windowsBreakAtGapsAndNeverSpanRuns() {
        let data = HCALDataset.RunData(run: 1, lumisections: [1, 2, 3, 4, 6, 7, 8, 9, 10, 11], numEvents: [], maps: [])
        #expect(HCALTraining.windows(data, rows: Array(0..<10), steps: 3) == [[0, 1, 2], [4, 5, 6], [7, 8, 9]])
    }

    @Test func productionModelHasUpstreamsEncoderAndRecurrentSizes() throws {
        var options = try HCALModelOptions.named("cnnrnnae", subdetector: .he)
        let full = try options.spec().summary()
        #expect(full.parameters(in: ["encoder"]) == 7_184, "upstream's CNN encoder, L = 4")
        #expect(full.shapes["decoder"] == [1, 64, 72, 40])
        options = try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he)
        let split = try options.spec().summary()
        #expect(split.shapes["maps"] == [1, 14, 72, 40] && split.shapes["decoder"] == [1, 14, 72, 40])
        #expect(split.parameters < full.parameters / 5, "the side split shrinks the recurrent layers")
        let hb = try HCALModelOptions.named("cnnfnnae", subdetector: .hb).spec().summary()
        #expect(hb.shapes["decoder"] == [1, 64, 72, 4])
    }

    /// In inference the model's blocks fold each batch norm into the convolution before it and
    /// apply the LeakyReLU in the convolution's output pass (`Sequential`); the side-split HE
    /// autoencoder, with batch norms far from the identity, scores what its layers give one by
    /// one, to rounding, at batch 1 (the channel-block path of the transposed convolutions) and 4.
    @Test func foldedInferenceMatchesLayerByLayer() throws {
        var options = try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he)
        options.latent = 2
        options.window = 2
        let model: GraphModel<Float> = try options.spec().build(seed: 3)
        var generator = SeededGenerator(seed: 4)
        func normal(_ count: Int, scale: Double, offset: Double) throws -> Tensor<Float> {
            try Tensor(shape: [count], scalars: (0..<count).map { _ in Float(offset + scale * generator.nextNormal()) })
        }
        func randomizeBatchNorms(_ module: Module<Float>) throws {
            if let norm = module as? BatchNorm<Float> {
                let channels = norm.scale.shape[0]
                norm.scale.value = try normal(channels, scale: 0.3, offset: 1)
                norm.shift.value = try normal(channels, scale: 0.3, offset: 0)
                norm.statistics.mean.value = try normal(channels, scale: 0.3, offset: 0)
                norm.statistics.variance.value = try normal(channels, scale: 0.3, offset: 1.5)
            }
            for (_, child) in module.children { try randomizeBatchNorms(child) }
        }
        try randomizeBatchNorms(model)
        model.setTraining(false)
        for samples in [1, 4] {
            let shape = [samples] + options.inputShape
            let x = Variable(try Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUniform()) }))
            let folded = try model([x])
            var values = Dictionary(uniqueKeysWithValues: zip(model.inputNames, [x]))
            for (block, sequential) in zip(model.spec.blocks, model.blocks) {
                let parts = block.inputs.compactMap { values[$0] }
                let input = parts.count == 1 ? parts[0] : try Variable.concatenate(parts, axis: block.concatenationAxis + 1)
                values[block.name] = try sequential.layers.reduce(input) { try $1($0) }
            }
            let separate = model.spec.outputs.compactMap { values[$0] }
            #expect(folded.count == 1 && separate.count == 1)
            for (a, b) in zip(folded, separate) {
                let scale = max(1, b.value.scalars.map(abs).max() ?? 0)
                let error = zip(a.value.scalars, b.value.scalars).map { abs($0 - $1) }.max() ?? .infinity
                #expect(a.shape == b.shape && error <= 1e-5 * scale, "batch \(samples): max error \(error) at scale \(scale)")
            }
        }
    }

    /// The spec's §4.9 counts at L = 4, HE: the VAE bottleneck adds 40, the GNN block 865 and
    /// enlarges LSTM1 to 22,656; ResCNN adds skips, no parameters.
    @Test func variantsHaveUpstreamsParameterCounts() throws {
        let vae = try HCALModelOptions.named("cnnrnnvae", subdetector: .he).spec().summary()
        #expect(vae.layers.filter { $0.block == "bottleneck" && $0.parameters > 0 }.map(\.parameters) == [21_632, 352, 40, 1_408, 432_640])
        let residual = try HCALModelOptions.named("rescnnrnnae", subdetector: .he).spec().summary()
        #expect(residual.parameters(in: ["encoder"]) == 7_184 && residual.layers.filter { $0.kind.hasPrefix("Residual") }.count == 3)
        let graph = try HCALModelOptions.named("graphstad", subdetector: .he).spec().summary()
        #expect(graph.parameters(in: ["graph"]) == 865)
        #expect(graph.layers.first { $0.block == "bottleneck" }?.parameters == 22_656)
        #expect(graph.shapes["encoder"] == [5, 320] && graph.shapes["graph"] == [5, 16] && graph.shapes["decoder"] == [1, 64, 72, 40])
    }

    @Test func modelNamesAndTheGraphModelsRules() throws {
        let named = try HCALModelOptions.named("rin-rescnnfnnvae", subdetector: .hb)
        #expect(named.reversibleNormalization && !named.sideSplit && named.residual && named.variational && named.architecture == .cnnfnnae && named.window == 1)
        #expect(try HCALModelOptions.named("graphstad", subdetector: .he) == HCALModelOptions.named("cnngnnrnnae", subdetector: .he))
        for name in HCALModelOptions.catalogue { _ = try HCALModelOptions.named(name, subdetector: .he).spec() }
        #expect(throws: HCALError.self) { try HCALModelOptions.named("rin-dc-graphstad", subdetector: .he) }
        #expect(throws: HCALError.self) { try HCALModelOptions.named("cnnxyzae", subdetector: .he) }
        var split = try HCALModelOptions.named("graphstad", subdetector: .he)
        split.sideSplit = true
        #expect(throws: HCALError.self) { try split.spec() }
        // The readout graph: every geometry channel a node, grouped by side and RBX (4 iphi).
        for subdetector in HCALSubdetector.allCases {
            let options = try HCALModelOptions.named("graphstad", subdetector: subdetector)
            let graph = options.readoutGraph
            #expect(graph.positions.count == HCALMask(geometry: subdetector).activeCount && Set(graph.groups) == Set(0..<36))
            for (position, group) in zip(graph.positions, graph.groups) {
                let cell = position / options.paddedDepths, eta = cell / HCALIndex.phiCount, phi = cell % HCALIndex.phiCount
                #expect(group == (HCALIndex.ieta(ofIndex: eta) < 0 ? 0 : 18) + HCALIndex.rbx(iphi: phi + 1) - 1)
            }
        }
    }

    /// The GRU and plain-RNN temporal models, GraphSTAD, and the ResCNN VAE train a few steps
    /// (finite losses; the VAE's includes β·KL) and score through the stepwise scorer.
    @Test func variantsTrainAndScore() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-variants")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataset = try smallDataset(in: directory, runs: 2, lumisections: 16, eventsPerLumisection: 40, lastTraining: 10).dataset
        for (index, (name, cell)) in [("cnnrnnae", RecurrentCell.gru), ("cnnrnnae", .rnn), ("graphstad", .lstm), ("rescnnfnnvae", .lstm)].enumerated() {
            var options = try HCALModelOptions.named(name, subdetector: .he)
            options.latent = 2
            options.recurrentCell = cell
            if options.architecture != .cnnfnnae { options.window = 3 }
            var settings = HCALTrainingSettings(model: name, options: options, dataset: dataset)
            settings.epochs = 2
            settings.batchSize = 2
            let run = RunDirectory(directory.appendingPathComponent("run\(index)").path)
            let outcome = try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in })
            let history = try #require(outcome.history)
            #expect(history.epochs.count == 2 && history.epochs.allSatisfy { $0.trainLoss.isFinite && $0.trainLoss > 0 }, "\(name) \(cell)")
            #expect(outcome.model.auxiliaryLosses().count == (options.variational ? 1 : 0))
            let scorer = try HCALScorer(runDirectory: run.path)
            let summary = try scorer.scoreDataset(dataset, output: directory.appendingPathComponent("scores\(index)").path)
            #expect(summary.lumisections == 12, "\(name) \(cell)")
        }
    }

    /// generate → prepare → train → score → evaluate on a tiny set; the streaming scorer gives the
    /// batch scorer's scores for the same window.
    @Test func endToEndOnASmallSyntheticSet() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-workflow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (files, dataset) = try smallDataset(in: directory, runs: 2, lumisections: 40, eventsPerLumisection: 60, faults: true, lastTraining: 25)
        #expect(files.count == 2)
        #expect(dataset.description.runs.map(\.trainingLumisections) == [25, 25] && dataset.description.runs.map(\.testLumisections) == [15, 15])
        for name in ["mask.npy", "mask.csv", "scaler.npy", "lumisections.parquet", "maps/Run355456.npy"] {
            #expect(FileManager.default.fileExists(atPath: HCALDataset.file(name, in: dataset.directory)), "\(name)")
        }
        // Training LS scale into [0, 1] on active channels.
        let data = try dataset.runData(355_456)
        let input = try HCALModelInput(options: try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he),
                                       mask: dataset.mask, offset: dataset.offset, range: dataset.range)
        var first = Array(data.maps[0..<input.channels])
        first.withUnsafeMutableBufferPointer { input.scale($0) }
        #expect(first.allSatisfy { $0 >= 0 && $0 <= 1 })

        var options = try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he)
        options.latent = 2
        var settings = HCALTrainingSettings(model: HCALModelOptions.productionName, options: options, dataset: dataset)
        settings.epochs = 1
        settings.batchSize = 2
        let run = RunDirectory(directory.appendingPathComponent("run").path)
        try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in })
        let scorer = try HCALScorer(runDirectory: run.path)
        #expect(scorer.sigma.enumerated().allSatisfy { !dataset.mask.active[$0.offset] || $0.element > 0 })

        let summary = try scorer.scoreDataset(dataset, output: directory.appendingPathComponent("scores").path)
        #expect(summary.lumisections == 30)
        // Streaming: LS 1…5 of a run, then the result for LS 5 equals the batch score of window 1…5.
        var streamed: HCALScorer.Result?
        for row in 0..<5 {
            let raw = data.maps[(row * input.channels)..<((row + 1) * input.channels)].map { $0 * Float(data.numEvents[row]) }
            streamed = try scorer.score(run: 355_456, lumisection: data.lumisections[row], occupancy: raw, numEvents: data.numEvents[row])
        }
        let window = (0..<5).flatMap { row -> [Float] in
            var map = Array(data.maps[(row * input.channels)..<((row + 1) * input.channels)])
            map.withUnsafeMutableBufferPointer { input.scale($0) }
            return map
        }
        let batch = try scorer.scoreWindows([window], run: 355_456, lumisections: [5])[0]
        let streamedScores = try #require(streamed).scores
        #expect(zip(streamedScores, batch.scores).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })

        var evaluation = HCALEvaluation.Options()
        evaluation.samples = 6
        evaluation.strengths = [2.0, 0.0]
        evaluation.latencyWindows = 2
        let report = directory.appendingPathComponent("report").path
        let result = try HCALEvaluation.run(scorer: scorer, dataset: dataset, options: evaluation, runDirectory: run, reportDirectory: report)
        // One epoch on 40 LS trains nothing worth measuring: this checks the bookkeeping, docs/hcal.md the detection.
        #expect(result.strengths.map(\.strength) == [2.0, 0.0])
        #expect(result.strengths.allSatisfy { $0.positives > 0 && $0.positives + $0.negatives == 12 * dataset.mask.activeCount && (0...1).contains($0.auc) })
        #expect(result.healthyLumisections == 6 && result.latency.windows == 2)
        #expect(FileManager.default.fileExists(atPath: (report as NSString).appendingPathComponent("index.html")))
    }
}

@Suite struct HCALONNXTests {
    /// The side-split temporal model, the spatial model, the GRU and RNN temporal models, the
    /// ResCNN VAEs and GraphSTAD (its GNN as standard operators), exported plain and stateful (zero
    /// initial states), give HEPML's reconstruction in ONNX Runtime.
    @Test(.requiresPython) func exportedModelsMatchInONNXRuntime() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-onnx")
        defer { try? FileManager.default.removeItem(at: directory) }
        var cases: [[String: Any]] = []
        var expected: [[Float]] = []
        let models: [(String, HCALSubdetector, RecurrentCell, Bool)] = [
            (HCALModelOptions.productionName, .he, .lstm, false), (HCALModelOptions.productionName, .he, .lstm, true), ("cnnfnnae", .he, .lstm, false),
            ("cnnrnnae", .hb, .gru, false), ("rescnnrnnvae", .hb, .rnn, true), ("rescnnfnnvae", .hb, .lstm, false),
            ("graphstad", .he, .lstm, false), ("rin-graphstad", .hb, .gru, true),
        ]
        for (index, (name, subdetector, cell, stateful)) in models.enumerated() {
            var options = try HCALModelOptions.named(name, subdetector: subdetector)
            options.latent = 2
            options.recurrentCell = cell
            if options.architecture != .cnnfnnae { options.window = 3 }
            let model: GraphModel<Float> = try options.spec().build(seed: 5)
            model.setTraining(false)
            let run = RunDirectory(directory.appendingPathComponent("run\(index)").path)
            try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
            try run.saveModel(model, history: nil)
            let path = directory.appendingPathComponent("model\(index).onnx").path
            try run.exportONNX(to: path, options: ONNXExporter.Options(statefulRecurrent: stateful))
            var generator = SeededGenerator(seed: 9)
            let shape = [2] + options.inputShape
            let values = (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUniform()) }
            expected.append(try model([Variable(try Tensor(shape: shape, scalars: values))])[0].value.scalars)
            cases.append(["model": path, "shape": shape, "values": values.map(Double.init)])
        }
        let specification = directory.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: specification)
        let script = """
        import json, sys
        import numpy as np, onnx, onnxruntime as ort
        out = []
        for case in json.load(open(sys.argv[1])):
            onnx.checker.check_model(onnx.load(case["model"]), full_check=True)
            session = ort.InferenceSession(case["model"], providers=["CPUExecutionProvider"])
            inputs = session.get_inputs()
            feeds = {inputs[0].name: np.array(case["values"], dtype=np.float32).reshape(case["shape"])}
            for i in inputs[1:]:
                feeds[i.name] = np.zeros([d if isinstance(d, int) else case["shape"][0] for d in i.shape], dtype=np.float32)
            out.append([float(x) for x in session.run(None, feeds)[0].ravel()])
        print(json.dumps(out))
        """
        let result = try TestEnvironment.runPython(try TestEnvironment.python(), script: script, arguments: [specification.path])
        try #require(result.status == 0, "python failed: \(result.output)")
        let lastLine = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let outputs = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [[Double]])
        try #require(outputs.count == expected.count)
        for (output, engine) in zip(outputs, expected) {
            #expect(output.count == engine.count)
            let worst = zip(output, engine).map { abs($0 - Double($1)) }.max() ?? .infinity
            #expect(worst < 1e-4, "largest difference \(worst)")
        }
    }
}

/// `hcal score --shard K/N` + `hcal merge` give exactly what one unsharded scoring writes.
@Suite struct HCALShardedScoringTests {
    @Test func mergedPartsEqualTheUnshardedScores() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-shards")
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let dataset = try smallDataset(in: directory, runs: 3, lumisections: 16, eventsPerLumisection: 40, lastTraining: 10).dataset
        var settings = HCALTrainingSettings(model: "cnnfnnae", options: try HCALModelOptions.named("cnnfnnae", subdetector: .he), dataset: dataset)
        settings.epochs = 1
        settings.batchSize = 4
        let run = RunDirectory(path("run"))
        try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in })
        let scorer = try HCALScorer(runDirectory: run.path)

        let whole = try scorer.scoreDataset(dataset, output: path("whole"))
        // Two parts of three runs: the runs split 2 + 1 (never inside a run), all parts in one directory.
        let parts = try (0..<2).map { index in
            let shard = try Shard(index: index, count: 2)
            _ = try scorer.scoreDataset(dataset, output: path("parts"), shard: shard)
            return (path("parts") as NSString).appendingPathComponent(HCALScoreFiles.name(HCALScoreFiles.channelTable, shard: shard))
        }
        #expect(try ShardManifest.read(path: ShardManifest.path(forPart: parts[0])).inputs.count == 2)
        #expect(throws: ShardError.self) { try HCALScoreFiles.mergeScores(parts: [parts[1]], output: path("merged")) }

        let merged = try HCALScoreFiles.mergeScores(parts: parts, output: path("merged"))
        #expect(merged.lumisections == whole.lumisections && merged.flaggedChannels == whole.flaggedChannels)
        let maps = dataset.description.runs.map { "score_maps/Run\($0.run).npy" }
        for file in ["scores.parquet", "lumisection_scores.parquet"] + maps {
            let expected = try #require(FileManager.default.contents(atPath: (path("whole") as NSString).appendingPathComponent(file)))
            #expect(FileManager.default.contents(atPath: (path("merged") as NSString).appendingPathComponent(file)) == expected, "\(file)")
        }
    }
}

/// Scoring runs the network step by step with a cache of encoded LS (`HCALStepwiseNetwork`):
/// its last-step reconstructions must be those of the plain full-window forward pass.
/// Upstream's window score (spec §5.1): the mean over the window of |pred − target| over σ of that
/// mean over the training windows, beside the last-LS score.
@Suite struct HCALWindowScoreTests {
    /// `name` with latent size 2 and a window of `window` LS, trained one epoch in `directory`/run.
    static func train(_ name: String, window: Int, on dataset: HCALDataset, in directory: URL) throws
        -> (run: RunDirectory, settings: HCALTrainingSettings, outcome: ModelTraining<HCALTrainingSettings>.Outcome) {
        var options = try HCALModelOptions.named(name, subdetector: .he)
        options.latent = 2
        options.window = window
        var settings = HCALTrainingSettings(model: name, options: options, dataset: dataset)
        settings.epochs = 1
        settings.batchSize = 2
        let run = RunDirectory(directory.appendingPathComponent("run").path)
        return (run, settings, try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in }))
    }

    @Test func windowScoreIsTheWindowMeanErrorOverItsTrainingSigma() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-window-score")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataset = try smallDataset(in: directory, runs: 2, lumisections: 20, eventsPerLumisection: 60, lastTraining: 12).dataset
        let (run, settings, outcome) = try Self.train(HCALModelOptions.productionName, window: 3, on: dataset, in: directory)
        let options = settings.options
        let scorer = try HCALScorer(runDirectory: run.path, score: .window)
        let input = scorer.input, channels = input.channels, steps = options.steps, active = input.mask.active
        #expect(scorer.scoreKind == .window)

        // σ_window: the sample standard deviation over the training windows of each channel's mean |e|.
        var trainingWindows: [[Float]] = []
        for description in dataset.description.runs {
            let data = try dataset.runData(description.run)
            trainingWindows += HCALTraining.windows(data, rows: dataset.rows(of: data, in: dataset.description.trainingRange), steps: steps)
                .map { HCALTraining.scaledWindow(data, rows: $0, input: input) }
        }
        let reconstructions = try HCALScorer.reconstruct(outcome.model, input: input, windows: trainingWindows)
        /// Mean over the window's steps of |reconstruction − target| of one channel.
        func windowError(_ reconstruction: [Float], _ window: [Float], _ channel: Int) -> Double {
            var sum = 0.0
            for step in 0..<steps { sum += Double(abs(reconstruction[step * channels + channel] - window[step * channels + channel])) }
            return sum / Double(steps)
        }
        var compared = 0
        for channel in 0..<channels where active[channel] {
            let values: [Double] = zip(reconstructions, trainingWindows).map { windowError($0, $1, channel) }
            let mean = values.reduce(0, +) / Double(values.count)
            var squares = 0.0
            for value in values { squares += (value - mean) * (value - mean) }
            let sigma = (squares / Double(values.count - 1)).squareRoot()
            guard sigma > 1e-6 else { continue }    // σ 0 takes the mean σ instead
            #expect(abs(Double(scorer.sigma[channel]) - sigma) <= 1e-3 * sigma, "channel \(channel)")
            compared += 1
        }
        #expect(compared > active.filter { $0 }.count / 2)
        let lastLumisection = try HCALScorer(runDirectory: run.path)
        #expect(lastLumisection.sigma != scorer.sigma)

        // The score of a test window: mean |e| over its LS over σ_window (full forward pass as reference).
        let data = try dataset.runData(355_456)
        let testRows = dataset.rows(of: data, in: dataset.description.testRange)
        let window = HCALTraining.scaledWindow(data, rows: Array(testRows.prefix(steps)), input: input)
        let reference = try HCALScorer.reconstruct(outcome.model, input: input, windows: [window])[0]
        let result = try scorer.scoreWindows([window], run: 355_456, lumisections: [testRows[steps - 1]])[0]
        var worst = 0.0
        for channel in 0..<channels where active[channel] {
            let expected = windowError(reference, window, channel) / Double(scorer.sigma[channel])
            worst = max(worst, abs(Double(result.scores[channel]) - expected) / max(1, expected))
        }
        #expect(worst < 1e-4, "largest relative difference \(worst)")
        #expect(result.scores.enumerated().allSatisfy { active[$0.offset] || $0.element == 0 })

        // A box of hot channels (2 above the scaled range, far beyond what one epoch learns to
        // follow) on every LS of the window scores higher under the window score than the same
        // box on the last LS only; the last-LS score sees the two alike.
        var generator = SeededGenerator(seed: 5)
        let box = HCALAnomalyBox.draw(.he, mask: input.mask, generator: &generator).channels(mask: input.mask)
        var lastOnly = window, persistent = window
        for channel in box {
            lastOnly[(steps - 1) * channels + channel] += 2
            for step in 0..<steps { persistent[step * channels + channel] += 2 }
        }
        func boxScore(_ scorer: HCALScorer, _ window: [Float]) throws -> Float {
            let scores = try scorer.scoreWindows([window], run: 1, lumisections: [1])[0].scores
            return box.map { scores[$0] }.reduce(0, +)
        }
        #expect(try boxScore(scorer, persistent) > 1.5 * boxScore(scorer, lastOnly))
        let lastPersistent = try boxScore(lastLumisection, persistent), lastLastOnly = try boxScore(lastLumisection, lastOnly)
        #expect(abs(lastPersistent - lastLastOnly) < 0.5 * lastLastOnly)

        // The streaming scorer gives the batch window score for the same window.
        let stream = try HCALScorer(runDirectory: run.path, score: .window)
        var streamed: HCALScorer.Result?
        for row in testRows.prefix(steps) {
            let raw = data.maps[(row * channels)..<((row + 1) * channels)].map { $0 * Float(data.numEvents[row]) }
            streamed = try stream.score(run: 355_456, lumisection: data.lumisections[row], occupancy: raw, numEvents: data.numEvents[row])
        }
        #expect(zip(try #require(streamed).scores, result.scores).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })

        // Evaluation records the score it used.
        var evaluation = HCALEvaluation.Options()
        evaluation.samples = 3
        evaluation.strengths = [0.0]
        evaluation.anomalousLumisections = nil
        evaluation.latencyWindows = 1
        let summary = try HCALEvaluation.run(scorer: scorer, dataset: dataset, options: evaluation, reportDirectory: nil)
        #expect(summary.score == "window" && summary.variant == "whole window" && summary.strengths[0].positives > 0)
        // A fault that started 2 LS ago; more LS than the window are refused.
        evaluation.anomalousLumisections = 2
        #expect(try HCALEvaluation.run(scorer: scorer, dataset: dataset, options: evaluation, reportDirectory: nil).variant == "last 2 LS")
        evaluation.anomalousLumisections = steps + 1
        #expect(throws: HCALError.self) { try HCALEvaluation.run(scorer: scorer, dataset: dataset, options: evaluation, reportDirectory: nil) }
    }

    /// A run written before the window score (no `window_sigma`) still scores with the last-LS
    /// score, refuses the window score naming what is missing, and `train` adds it without training.
    @Test func aRunWithoutWindowStatisticsIsUpgradedByTrain() throws {
        let directory = try TestEnvironment.temporaryDirectory("hcal-window-upgrade")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataset = try smallDataset(in: directory, runs: 1, lumisections: 14, eventsPerLumisection: 40, lastTraining: 10).dataset
        let (run, settings, _) = try Self.train("cnnrnnae", window: 2, on: dataset, in: directory)
        let file = run.file(HCALRunFiles.scoring)
        let written = try SafeTensors.read(file, as: Float.self).tensors
        let windowSigma = try #require(written["window_sigma"])
        let weights = try Data(contentsOf: URL(fileURLWithPath: run.weightsFile))

        try SafeTensors.write(written.filter { $0.key != "window_sigma" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                              metadata: ["producer": "hepml", "workflow": "hcal"], to: file)
        #expect(try HCALScorer(runDirectory: run.path).scoreKind == .lastLumisection)
        let error = #expect(throws: FileFormatError.self) { try HCALScorer(runDirectory: run.path, score: .window) }
        let message = "\(try #require(error))"
        #expect(message.contains("window_sigma") && message.contains("hepml hcal train"))

        let outcome = try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in })
        #expect(outcome.loaded)
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.weightsFile)) == weights)
        #expect(try HCALScorer(runDirectory: run.path, score: .window).sigma == windowSigma.scalars)
    }
}

@Suite struct HCALStepwiseScoringTests {
    /// A network of `name` with random weights and random batch-norm statistics (so inference-mode
    /// batch norm is not the identity), and a random stream of scaled LS maps.
    static func setUp(_ name: String, subdetector: HCALSubdetector, seed: UInt64) throws -> (GraphModel<Float>, HCALModelInput, [[Float]]) {
        let options = try HCALModelOptions.named(name, subdetector: subdetector)
        let model: GraphModel<Float> = try options.spec().build(seed: seed)
        var generator = SeededGenerator(seed: seed, stream: 1)
        for (name, buffer) in model.namedBuffers() {
            let variance = name.hasSuffix("running_var")
            buffer.value.scalars = buffer.value.scalars.map { _ in variance ? Float(0.5 + 1.5 * generator.nextUniform()) : Float(0.4 * generator.nextUniform() - 0.2) }
        }
        let mask = HCALMask(geometry: subdetector)
        let input = try HCALModelInput(options: options, mask: mask, offset: [Float](repeating: 0, count: mask.active.count),
                                       range: [Float](repeating: 1, count: mask.active.count))
        var stream = (0..<14).map { _ in mask.active.map { $0 ? Float(generator.nextUniform()) : 0 } }
        stream[6] = stream[5]                                  // an LS repeated (a run's first windows repeat LS 1 too)
        stream[9][HCALIndex.flat(eta: 20, phi: 7, depth: 1, depths: mask.depthCount)] *= 2.5   // one hot channel
        return (model, input, stream)
    }

    /// `fast` holds the reconstructions of the steps `decoded` of each window.
    static func expectSameSteps(_ fast: [[Float]], _ decoded: Range<Int>, model: GraphModel<Float>, input: HCALModelInput, windows: [[Float]]) throws {
        let plain = try HCALScorer.reconstruct(model, input: input, windows: windows)
        let channels = input.channels
        try #require(fast.count == plain.count)
        for (fastSteps, window) in zip(fast, plain) {
            try #require(fastSteps.count == decoded.count * channels)
            let worst = zip(fastSteps, window[(decoded.lowerBound * channels)..<(decoded.upperBound * channels)]).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(worst < 1e-5, "largest relative difference \(worst)")
        }
    }

    @Test(arguments: [(HCALModelOptions.productionName, HCALSubdetector.he), ("cnnrnnae", .hb), ("cnnfnnae", .he), ("graphstad", .he),
                      ("rescnnrnnvae", .hb), ("rescnnfnnvae", .he)])
    func stepsEqualTheFullWindowForward(name: String, subdetector: HCALSubdetector) throws {
        let (model, input, stream) = try Self.setUp(name, subdetector: subdetector, seed: 17)
        let steps = input.options.steps, last = (steps - 1)..<steps
        // Sliding windows over the stream, the first ones padded with LS 0 as the streaming scorer does.
        let windows = (0..<stream.count).map { end in (0..<steps).flatMap { stream[max(0, end - steps + 1 + $0)] } }
        let network = try HCALStepwiseNetwork(model: model, input: input)
        // One at a time (the previous windows' steps come from the cache), then all in one call
        // (cached, and repeated within the call), then a fresh network over all of them.
        var oneByOne: [[Float]] = []
        for window in windows { oneByOne += try network.reconstruct([window], steps: last) }
        try Self.expectSameSteps(oneByOne, last, model: model, input: input, windows: windows)
        try Self.expectSameSteps(try network.reconstruct(windows, steps: last), last, model: model, input: input, windows: windows)
        try Self.expectSameSteps(try HCALStepwiseNetwork(model: model, input: input).reconstruct(windows.reversed(), steps: last), last,
                                 model: model, input: input, windows: windows.reversed())
        // Every step (the window score), and an inner range.
        try Self.expectSameSteps(try network.reconstruct(windows, steps: 0..<steps), 0..<steps, model: model, input: input, windows: windows)
        if steps > 2 {
            try Self.expectSameSteps(try network.reconstruct(windows, steps: 1..<(steps - 1)), 1..<(steps - 1), model: model, input: input, windows: windows)
        }
        #expect(throws: HCALError.self) { try network.reconstruct(windows, steps: 0..<(steps + 1)) }
    }

    /// More distinct LS than the cache holds: evicted steps are encoded again, with the same result.
    @Test func evictionKeepsResultsExact() throws {
        let (model, input, stream) = try Self.setUp(HCALModelOptions.productionName, subdetector: .he, seed: 3)
        let network = try HCALStepwiseNetwork(model: model, input: input)
        let steps = input.options.steps, last = (steps - 1)..<steps
        let first = (0..<steps).flatMap { stream[$0] }
        let before = try network.reconstruct([first], steps: last)
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<((HCALStepwiseNetwork.cacheCapacity + 5) / steps + 1) {
            let window = (0..<(steps * input.channels)).map { _ in Float(generator.nextUniform()) }
            _ = try network.reconstruct([window], steps: last)
        }
        #expect(try network.reconstruct([first], steps: last) == before)
        #expect(throws: HCALError.self) { try network.reconstruct([Array(first.dropLast())], steps: last) }
    }
}
