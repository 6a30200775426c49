import Foundation
import HEPMLColumnar
@testable import HEPMLCompress
import HEPMLCompression
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLROOT
import HEPMLTensor
import HEPMLTestSupport
import Testing

/// One small trained model and its generated data, shared by the tests of a run (training is
/// the slow part): 1,500 events of generated jets in a ROOT file, AE_bn_LeakyReLU 4-32-32-3.
final class CompressFixture: @unchecked Sendable {
    let directory: URL
    let rootFile: String
    let run: RunDirectory
    let source: ObjectSource

    static let shared: Result<CompressFixture, Error> = Result { try CompressFixture() }

    init() throws {
        directory = try TestEnvironment.temporaryDirectory("compress-fixture")
        rootFile = directory.appendingPathComponent("jets.root").path
        try JetGenerator.generate(events: 1500, meanJets: 3, seed: 7).writeROOT(to: rootFile, tree: "Events")
        source = ObjectSource(path: rootFile, tree: "Events", branches: ["Jet_*"])
        run = RunDirectory(directory.appendingPathComponent("model").path)
        var settings = CompressionTrainingSettings(source: source, normalization: .atlas4D, model: "AE_bn_LeakyReLU:4,32,32,3,32,32,4", epochs: 6)
        settings.batchSize = 256
        settings.maximumLearningRate = 3e-3
        _ = try CompressionTraining.run(settings, in: run, showProgress: false, log: { _ in })
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func compress(_ name: String, options: CompressionOptions) throws -> (CompressionResult, String) {
        let output = path(name)
        let result = try EventCompressor.compress(try source.read(), source: source, model: run, to: output, options: options)
        return (result, output)
    }
}

@Suite struct NormalizationTests {
    /// Every scheme's every inverse undoes its transform, on values across each domain.
    @Test func everyInverseUndoesItsTransform() throws {
        var generator = SeededGenerator(seed: 3)
        func values(_ transform: VariableTransform) -> [Double] {
            (0..<200).map { _ in
                let u = generator.nextUniform()
                if case .logarithmic(let scale, let add, _, _) = transform {
                    // scale·x + add from 1e-3 to 1e4.
                    let argument = Foundation.pow(10, -3 + 7 * u)
                    return (argument - add) / scale
                }
                return 200 * (u - 0.5)
            }
        }
        let sample = ObjectVariable(name: "x", type: .float64, values: (0..<50).map { Double($0) * 1.5 - 7 })
        var transforms: [VariableTransform] = Array(NormalizationScheme.atlas27DTransforms.values)
        for scheme in [NormalizationScheme.standard, .minmax, .none] {
            transforms += try scheme.transforms(for: [sample], rows: Array(0..<50))
        }
        for names in [["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"], ["E", "pt", "eta", "phi"]] {
            let variables = names.map { ObjectVariable(name: $0, type: .float32, values: [1, 2]) }
            for scheme in [NormalizationScheme.log, .atlas4D, .phenoML4D] where !(scheme == .atlas4D && names[0] == "E") && !(scheme == .phenoML4D && names[0] == "Jet_pt") {
                transforms += try scheme.transforms(for: variables, rows: [0, 1])
            }
        }
        #expect(transforms.count > 40)
        for transform in transforms {
            for x in values(transform) {
                #expect(transform.accepts(x))
                let back = transform.inverse(transform.forward(x))
                #expect(abs(back - x) <= 1e-9 * max(1, abs(x)), "\(transform.formula) at \(x) gives \(back)")
            }
        }
    }

    /// The upstream un-normalizations that were not inverses: pT = 10^(1.2·pT' + 1.3), m = 10^(1.8·m') − 1.
    @Test func atlasInversesAreExact() throws {
        let variables = ["pt", "eta", "phi", "m"].map { ObjectVariable(name: $0, type: .float64, values: [1]) }
        let transforms = try NormalizationScheme.atlas4D.transforms(for: variables, rows: [0])
        #expect(abs(transforms[0].forward(100) - (2 - 1.3) / 1.2) < 1e-15)
        #expect(abs(transforms[0].inverse((2 - 1.3) / 1.2) - 100) < 1e-12)
        #expect(abs(transforms[3].inverse(log10(51) / 1.8) - 50) < 1e-12)
        #expect(transforms[1] == .affine(divisor: 5, shift: 0))
        #expect(!transforms[3].accepts(-1))
    }

    @Test func nonpositiveMassUnderALogIsAnErrorNamingFileAndVariable() throws {
        var data = JetGenerator.generate(events: 20, seed: 1)
        data.variables[3].values[5] = -2
        let transforms = try NormalizationScheme.atlas4D.transforms(for: data.variables, rows: [0])
        #expect {
            _ = try Normalization(scheme: .atlas4D, transforms: transforms).normalized(data, file: "jets.root")
        } throws: { error in
            let text = "\(error)"
            return text.contains("jets.root") && text.contains("Jet_mass") && text.contains("object 5")
        }
    }
}

@Suite struct ModelZooTests {
    /// Parameter counts as upstream's (spec A.6).
    @Test(arguments: [("AE_3D_200", 4, 52_607), ("AE_3D_200_LeakyReLU", 4, 90_567),
                      ("AE_bn_LeakyReLU:4,400,400,200,3,200,400,400,4", 4, 490_413),
                      ("AE_bn_LeakyReLU:27,400,400,200,20,200,400,400,27", 27, 515_687),
                      ("AE_bn_LeakyReLU:27,200,200,200,18,200,200,200,27", 27, 181_681)])
    func parameterCounts(model: String, variables: Int, parameters: Int) throws {
        let spec = try ModelZoo.spec(model, variables: variables)
        let summary = try spec.summary()
        // Trainable parameters: batch-norm running statistics are buffers, not parameters.
        #expect(summary.parameters == parameters)
        let decoder = try ModelZoo.decoderSpec(of: spec)
        #expect(decoder.inputs[0].shape == [Int(spec.metadata["latent"] ?? "") ?? -1])
    }

    /// Upstream never re-initialized its `nn.Linear`s: weights and biases start U(±1/√in).
    @Test func denseLayersStartAsPyTorchsLinear() throws {
        let model: GraphModel<Float> = try ModelZoo.spec("AE_bn_LeakyReLU:27,200,200,200,14,200,200,200,27", variables: 27).build(seed: 3)
        let dense = model.stateDictionary().filter { $0.0.hasSuffix("weight") && $0.1.shape.count == 2 }
        #expect(dense.count == 8)
        for (name, weight) in dense {
            let limit = 1 / Float(weight.shape[1]).squareRoot()
            let bias = try #require(model.stateDictionary().first { $0.0 == name.replacingOccurrences(of: "weight", with: "bias") }?.1)
            #expect(weight.scalars.allSatisfy { abs($0) <= limit } && bias.scalars.allSatisfy { abs($0) <= limit }, "\(name)")
            // Uniform on ±limit: standard deviation limit/√3 (Glorot's would be √(2/(in+out)), 1.7× that for 200×200).
            let deviation = (weight.scalars.reduce(0) { $0 + $1 * $1 } / Float(weight.count)).squareRoot()
            #expect(abs(deviation / (limit / Float(3).squareRoot()) - 1) < 0.1, "\(name)")
            #expect(bias.scalars.contains { $0 != 0 }, "\(name)")
        }
    }

    /// fastai v1's `bn_wd=False` with `true_wd`: batch-norm parameters and dense biases keep their
    /// values; other weights shrink by lr·wd per step (zero gradients isolate the decay).
    @Test func weightDecaySparesBatchNormsAndBiases() throws {
        let spec = try ModelZoo.spec("AE_bn_LeakyReLU:4,8,3,8,4", variables: 4)
        let model: GraphModel<Float> = try spec.build(seed: 1)
        var settings = CompressionTrainingSettings(source: ObjectSource(path: "unused"), normalization: .none, model: spec.name, epochs: 1)
        settings.weightDecay = 0.1
        let optimizer = CompressionTraining.optimizer(for: model, settings: settings, totalSteps: 10)
        optimizer.learningRate = 0.5
        let before = model.stateDictionary()
        for parameter in model.parameters { parameter.grad = Tensor(zeros: parameter.shape) }
        optimizer.step()
        let after = Dictionary(model.stateDictionary(), uniquingKeysWith: { a, _ in a })
        var decayed = 0, kept = 0
        for (name, value) in before where !name.hasSuffix("running_mean") && !name.hasSuffix("running_var") {
            let new = try #require(after[name])
            let isDenseWeight = name.hasSuffix("weight") && value.shape.count == 2
            let expected = isDenseWeight ? value.scalars.map { $0 * (1 - 0.5 * 0.1) } : value.scalars
            #expect(zip(new.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "\(name)")
            if isDenseWeight { decayed += 1 } else { kept += 1 }
        }
        #expect(decayed == 4 && kept == 4 + 2 * 3)
    }

    @Test func unknownModelsAndMismatchedWidthsAreRefused() {
        #expect(throws: ModelZooError.self) { try ModelZoo.spec("AE_nothing", variables: 4) }
        #expect(throws: ModelZooError.self) { try ModelZoo.spec("AE_3D_200", variables: 27) }
        #expect(throws: ModelZooError.self) { try ModelZoo.spec("AE_bn_LeakyReLU:4,200,3,200", variables: 4) }
    }

    /// fastai's one cycle: β₁ 0.95 → 0.85 at the end of the warm-up → 0.95; rates from max/25 to max to max/(25·1e4).
    @Test func oneCycleMomentumAndRate() {
        let cycle = OneCycle()
        let total = 1000
        #expect(abs(cycle.momentum(step: 0, totalSteps: total) - 0.95) < 1e-12)
        #expect(abs(cycle.momentum(step: 300, totalSteps: total) - 0.85) < 1e-12)
        #expect(abs(cycle.momentum(step: 999, totalSteps: total) - 0.95) < 1e-12)
        #expect(abs(cycle.schedule.rate(base: 1, step: 0, totalSteps: total, stepsPerEpoch: 10) - 1.0 / 25) < 1e-12)
        #expect(abs(cycle.schedule.rate(base: 1, step: 300, totalSteps: total, stepsPerEpoch: 10) - 1) < 1e-12)
        #expect(abs(cycle.schedule.rate(base: 1, step: 999, totalSteps: total, stepsPerEpoch: 10) - 1.0 / 25e4) < 1e-12)
    }
}

@Suite(.serialized) struct CompressRoundTripTests {
    var fixture: CompressFixture { get throws { try CompressFixture.shared.get() } }

    /// decompress(compress(x)) restores the event structure exactly and the bound holds on every value.
    @Test func errorBoundHoldsAndEventStructureRoundTrips() throws {
        let fixture = try fixture
        var options = CompressionOptions()
        options.bounds = [try ErrorBound(parsing: "Jet_pt=1e-3"), try ErrorBound(parsing: "Jet_eta=abs:2e-3"),
                          try ErrorBound(parsing: "Jet_phi=abs:2e-3"), try ErrorBound(parsing: "Jet_mass=rel:1e-2")]
        let (result, path) = try fixture.compress("bounded.parquet", options: options)
        let original = try fixture.source.read().data
        let decoded = try CompressedEventFile(path: path).decompress()
        #expect(decoded.eventOffsets == original.eventOffsets)
        #expect(decoded.counterName == "nJet")
        #expect(decoded.variableNames == original.variableNames)
        for (bound, (input, output)) in zip(options.bounds, zip(original.variables, decoded.variables)) {
            #expect(input.type == .float32 && output.type == .float32)
            let misses = zip(input.values, output.values).filter { abs($1 - $0) > bound.allowed($0) }.count
            #expect(misses == 0, "\(input.name): \(misses) values outside \(bound.text)")
        }
        #expect(result.header.variables.contains { $0.corrections > 0 })
        #expect(result.decoded == decoded)

        // The decompressed ROOT file: original names, float32, one nJet counter, the same values.
        let rootPath = fixture.path("decoded.root")
        try decoded.writeROOT(to: rootPath, tree: result.header.tree)
        let reread = try ObjectSource(path: rootPath, tree: "Events", branches: ["Jet_*"]).read().data
        #expect(reread == decoded)
        let tree = try ROOTFile(path: rootPath).tree("Events")
        #expect(tree.branchNames == ["nJet", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"])
    }

    /// 16-bit and N-bit latents decode close to float32 ones, and the bound still holds.
    @Test(arguments: ["float16", "bfloat16", "bits:8"])
    func reducedLatents(encoding: String) throws {
        let fixture = try fixture
        var options = CompressionOptions()
        options.encoding = try LatentEncoding(parsing: encoding)
        options.bounds = [try ErrorBound(parsing: "Jet_pt=1e-2")]
        let (result, path) = try fixture.compress("latent-\(encoding).parquet", options: options)
        let original = try fixture.source.read().data
        let decoded = try CompressedEventFile(path: path).decompress()
        #expect(result.decoded == decoded)
        #expect(zip(original.variables[0].values, decoded.variables[0].values).allSatisfy { abs($1 - $0) <= 1e-2 * abs($0) })
        let sizes = try CompressedFileSizes(CompressedEventFile(path: path))
        #expect(sizes.latents > 0 && sizes.file > sizes.latents + sizes.model)
    }

    @Test func encodingsRoundTripTheirGrid() throws {
        let values: [Float] = [0.1, -2.5, 3.25, 0, 1e-3, 7.75]
        for encoding in [LatentEncoding.float16, .bfloat16, .bits(10)] {
            let ranges = encoding.ranges(of: values, width: 2)
            let back = try encoding.values(codes: encoding.codes(values, width: 2, ranges: ranges), width: 2, ranges: ranges, file: "test")
            for (a, b) in zip(values, back) { #expect(abs(a - b) <= 0.02 * max(abs(a), 1), "\(encoding): \(a) → \(b)") }
        }
        #expect(throws: CompressedFileError.self) { try LatentEncoding.bits(4).values(codes: [16], width: 1, ranges: [[0, 1]], file: "f") }
    }

    /// A damaged decoder, a mismatched decoder and a file that is not a compressed file are refused, naming the file.
    @Test func damagedOrMismatchedDecoderIsRefused() throws {
        let fixture = try fixture
        let (_, path) = try fixture.compress("intact.parquet", options: CompressionOptions())
        let table = try Parquet.read(path: path)
        func rewritten(_ name: String, _ change: (inout [String: String]) throws -> Void) throws -> String {
            var metadata = table.metadata
            try change(&metadata)
            let output = fixture.path(name)
            try Parquet.write(try Table(columns: table.columns, metadata: metadata), to: output)
            return output
        }
        let damaged = try rewritten("damaged.parquet") { metadata in
            let encoded = try #require(metadata[CompressedHeader.weightsKey])
            var bytes = [UInt8](try #require(Data(base64Encoded: encoded)))
            bytes[bytes.count - 3] ^= 0x5A
            metadata[CompressedHeader.weightsKey] = Data(bytes).base64EncodedString()
        }
        #expect { _ = try CompressedEventFile(path: damaged) } throws: { "\($0)".contains("damaged.parquet") && "\($0)".contains("damaged") }

        // Another model's decoder with its own, consistent CRC: the weights do not fit the description.
        let other = try ModelZoo.spec("AE_bn_LeakyReLU:4,16,3,16,4", variables: 4).build(seed: 1, as: Float.self)
        let otherBytes = try SafeTensors.encode(other.stateDictionary().filter { $0.0.hasPrefix("decoder.") })
        let mismatched = try rewritten("mismatched.parquet") { metadata in
            let json = try #require(metadata[CompressedHeader.headerKey])
            var header = try JSONDecoder().decode(CompressedHeader.self, from: Data(json.utf8))
            header.decoderWeightsCRC32 = otherBytes.withUnsafeBytes { Codec.crc32($0) }
            metadata[CompressedHeader.headerKey] = String(decoding: try JSONEncoder().encode(header), as: UTF8.self)
            metadata[CompressedHeader.weightsKey] = Data(otherBytes).base64EncodedString()
        }
        #expect { _ = try CompressedEventFile(path: mismatched) } throws: { "\($0)".contains("mismatched.parquet") && "\($0)".contains("do not fit") }

        let plain = fixture.path("plain.parquet")
        try Parquet.write(try Table(columns: table.columns), to: plain)
        #expect { _ = try CompressedEventFile(path: plain) } throws: { "\($0)".contains("not a HEPML compressed event file") }
    }

    @Test func otherVariablesThanTheModelsAreRefused() throws {
        let fixture = try fixture
        let source = ObjectSource(path: fixture.rootFile, tree: "Events", branches: ["Jet_eta", "Jet_pt", "Jet_phi", "Jet_mass"])
        #expect { _ = try EventCompressor.compress(try source.read(), source: source, model: fixture.run, to: fixture.path("x.parquet")) }
            throws: { "\($0)".contains("not the variables the model was trained on") }
        #expect(!FileManager.default.fileExists(atPath: fixture.path("x.parquet")))
    }

    @Test func evaluationReportsResidualsAndBaselines() throws {
        let fixture = try fixture
        let (_, path) = try fixture.compress("evaluate.parquet", options: CompressionOptions())
        let file = try CompressedEventFile(path: path)
        let original = try fixture.source.read().data
        let decoded = try file.decompress()
        let types = ObjectTypes(variable: ObjectVariable(name: "parity", type: .int32, values: (0..<original.objectCount).map { Double($0 % 2) }))
        let evaluation = try CompressionEvaluation(original: original, decoded: decoded, sizes: try CompressedFileSizes(file), decompressSeconds: 1,
                                                   encodeSeconds: 0.5, types: types)
        #expect(types.names == ["parity=0", "parity=1"])
        #expect(evaluation.byType.map(\.type) == ["parity=0", "parity=1"])
        #expect(evaluation.byType.map(\.objects) == [(original.objectCount + 1) / 2, original.objectCount / 2])
        let odd = Array(stride(from: 1, to: original.objectCount, by: 2))
        let oddPt = ResidualSummary(variable: "Jet_pt", input: odd.map { original.variables[0].values[$0] }, output: odd.map { decoded.variables[0].values[$0] }, relative: true)
        #expect(evaluation.byType[1].residuals[0].sigma == oddPt.sigma && evaluation.byType[1].residuals[0].mean == oddPt.mean)
        #expect(evaluation.residuals.map(\.relative) == [true, false, false, true])
        #expect(evaluation.residuals.allSatisfy { $0.count == original.objectCount && $0.sigma > 0 && $0.sigma.isFinite })
        #expect(evaluation.baselines.map(\.name) == ["zstd lossless", "float16 + zstd", "mantissa truncation + zstd"])
        for (truncated, autoencoder) in zip(evaluation.baselines[2].sigmas, evaluation.residuals.map(\.sigma)) { #expect(truncated <= autoencoder) }
        let index = try evaluation.writeReport(original: original, decoded: decoded, title: "test", to: fixture.path("report"))
        let html = try String(contentsOfFile: index, encoding: .utf8)
        for figure in ["residual_corner_0", "residual_sigma_by_type"] {
            #expect(FileManager.default.fileExists(atPath: fixture.path("report/figures/\(figure).png")), "\(figure)")
        }
        #expect(html.contains("residuals per object type") && html.contains("parity=1") && html.contains("ns/object"))
    }

    /// Corner groups: upstream's nine 27D groups (pT, η and one family each) for the ATLAS
    /// variables, one group of a few variables, and the first two with blocks of five beyond seven.
    @Test func cornerGroups() {
        let atlas = ["pt", "eta", "phi", "m", "ActiveArea", "ActiveArea4vec_eta", "ActiveArea4vec_m", "ActiveArea4vec_phi", "ActiveArea4vec_pt",
                     "AverageLArQF", "NegativeE", "HECQuality", "LArQuality", "Width", "WidthPhi", "CentroidR", "DetectorEta",
                     "LeadingClusterCenterLambda", "LeadingClusterPt", "LeadingClusterSecondLambda", "LeadingClusterSecondR", "N90Constituents",
                     "EMFrac", "HECFrac", "Timing", "OotFracClusters10", "OotFracClusters5"].map { "JetAuxDyn.\($0)" }
        let groups = ResidualCorner.groups(atlas)
        #expect(groups.count == 9)
        #expect(groups[0] == [0, 1, 2, 3])
        #expect(groups[1] == [0, 1, 4, 5, 7, 8, 6])
        #expect(groups[8] == [0, 1, 24, 26, 25])
        #expect(Set(groups.flatMap { $0 }) == Set(0..<27))
        #expect(ResidualCorner.groups(["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"]) == [[0, 1, 2, 3]])
        #expect(ResidualCorner.groups((0..<12).map { "x\($0)" }) == [[0, 1, 2, 3, 4, 5, 6], [0, 1, 7, 8, 9, 10, 11]])
    }
}

@Suite struct ObjectInputTests {
    /// Jagged branches with different per-event counts are an error naming the file and branch.
    @Test func branchesOfDifferentLengthsAreRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory("compress-lengths")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.root").path
        let writer = ROOTWriter(path: path)
        try writer.writeTree([TreeBranchData(ColumnArray(name: "Jet_pt", values: .float32([1, 2, 3]), offsets: [0, 2, 3]), counter: "nJet"),
                              TreeBranchData(ColumnArray(name: "Jet_eta", values: .float32([1, 2, 3]), offsets: [0, 1, 3]), counter: "nOther")],
                             to: "Events")
        try writer.close()
        #expect { _ = try ObjectSource(path: path, tree: "Events", branches: ["Jet_pt", "Jet_eta"]).read() } throws: {
            let text = "\($0)"
            return text.contains("bad.root") && text.contains("Jet_eta") && text.contains("entry 0")
        }
    }

    @Test func nonFiniteValuesAreRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory("compress-nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nan.parquet").path
        try Parquet.write(try Table(columns: [try Column(name: "pt", float64: [1, .nan]), try Column(name: "eta", float64: [0, 1])]), to: path)
        #expect { _ = try ObjectSource(path: path).read() } throws: { "\($0)".contains("nan.parquet") && "\($0)".contains("pt") && "\($0)".contains("entry 1") }
    }

    @Test func phenoMLLinesKeepTheEvents() throws {
        let directory = try TestEnvironment.temporaryDirectory("compress-phenoml")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("events.csv").path
        try """
        7;ttbar;1.5;41000;0.3;j,120000,100000,0.5,1.2;b,90000,80000,-1.1,-2.0;
        8;ttbar;1.5;12000;-1.1;
        9;wjets;0.5;3000;2.9;e-,50000,45000,0.1,0.2,
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let data = try ObjectSource(path: path).read().data
        #expect(data.eventOffsets == [0, 2, 2, 3])
        #expect(data.variableNames == ["E", "pt", "eta", "phi"])
        #expect(data.variables[1].values == [100_000, 80_000, 45_000])
        #expect(data.kept.first { $0.name == "obj_type" }?.values == .int32([0, 1, 2]))
        #expect(data.kept.first { $0.name == "MET" }?.values == .float64([41000, 12000, 3000]))
        let leading = try ObjectSource(path: path, leadingOnly: true).read().data
        #expect(leading.eventOffsets == nil && leading.variables[0].values == [120_000, 50_000])
    }
}

/// `compress compress --shard K/N` + `compress merge` give the file one unsharded compression writes.
@Suite(.serialized) struct ShardedCompressionTests {
    @Test func mergedPartsEqualTheUnshardedFile() throws {
        let fixture = try CompressFixture.shared.get()
        var options = CompressionOptions()
        options.encoding = .float16
        options.bounds = [try ErrorBound(parsing: "Jet_pt=1e-3")]
        let (whole, wholePath) = try fixture.compress("whole.parquet", options: options)
        let reading = try fixture.source.read()
        let output = fixture.path("sharded.parquet")
        let parts = try (0..<3).map { index in
            try ShardedCompression.compressPart(reading, shard: try Shard(index: index, count: 3), source: fixture.source, model: fixture.run,
                                                output: output, options: options).part
        }
        #expect(parts[1] == fixture.path("sharded.part-1-of-3.parquet"))
        #expect(try CompressedEventFile(path: parts[0]).header.events == 500)
        #expect(throws: ShardError.self) { try ShardedCompression.merge(parts: [parts[0], parts[2]], output: output) }

        // The same header up to the correction counts, the same events and objects; the values agree up
        // to the float32 rounding of the encoder's products (BLAS blocks rows by batch size), and the
        // bound holds on every merged value.
        let header = try ShardedCompression.merge(parts: parts, output: output)
        #expect(ShardedCompression.wholeHeader(header) == ShardedCompression.wholeHeader(whole.header))
        #expect(header.events == whole.header.events && header.objects == whole.header.objects
                && header.originalRawBytes == whole.header.originalRawBytes && header.originalStoredBytes == whole.header.originalStoredBytes)
        let merged = try CompressedEventFile(path: output).decompress(), unsharded = try CompressedEventFile(path: wholePath).decompress()
        #expect(merged.eventOffsets == unsharded.eventOffsets && merged.counterName == unsharded.counterName)
        for (a, b) in zip(merged.variables, unsharded.variables) {
            let largest = zip(a.values, b.values).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(largest <= 1e-2, "\(a.name): largest relative difference \(largest)")
        }
        let bound = options.bounds[0], original = reading.data.variables[0].values
        #expect(zip(merged.variables[0].values, original).allSatisfy { abs($0 - $1) <= bound.allowed($1) })

        var quantized = options
        quantized.encoding = .bits(8)
        #expect(throws: ShardError.self) {
            try ShardedCompression.compressPart(reading, shard: try Shard(index: 0, count: 3), source: fixture.source, model: fixture.run,
                                                output: output, options: quantized)
        }
    }
}
