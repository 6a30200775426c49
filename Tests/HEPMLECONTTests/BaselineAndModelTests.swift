import Foundation
import Testing
import HEPMLTestSupport
@testable import HEPMLECONT

@Suite("Baselines, budgets, models, evaluation helpers")
struct BaselineAndModelTests {
    @Test("eLink budgets")
    func budgets() {
        #expect([2, 3, 4, 5].map { ELinkBudget(links: $0)!.latentBits } == [3, 5, 7, 9])
        #expect([2, 3, 4, 5].map { ELinkBudget(links: $0)!.bestChoiceCells } == [4, 6, 9, 14])
        #expect(ELinkBudget(links: 1) == nil && ELinkBudget(links: 6) == nil)
    }

    @Test("Threshold, super trigger cells and best choice on hand-made modules")
    func baselines() {
        let module = CalQTestData.module([0: 1.0, 1: 1.5, 4: 3.0, 5: 3.0, 17: 2.0, 20: 0.5, 42: 4.0, 47: 1.36])
        #expect(BaselineAlgorithm.threshold(1.35).apply(to: module) == CalQTestData.module([1: 1.5, 4: 3, 5: 3, 17: 2, 42: 4, 47: 1.36]))
        #expect(BaselineAlgorithm.threshold(2.0).apply(to: module) == CalQTestData.module([4: 3, 5: 3, 42: 4]))
        // Block sums go to the highest TC; ties pick the first (TC 4 before 5).
        #expect(BaselineAlgorithm.superTriggerCell(groups: BaselineAlgorithm.blockGroups).apply(to: module)
                == CalQTestData.module([4: 8.5, 17: 2.5, 42: 5.36]))
        // 2×2 groups; the last group is [42, 43, 46, 47], so TC 42 and 47 share one sum.
        #expect(BaselineAlgorithm.superTriggerCell(groups: BaselineAlgorithm.twoByTwoGroups).apply(to: module)
                == CalQTestData.module([4: 8.5, 17: 2.5, 42: 5.36]))
        #expect(Set(BaselineAlgorithm.twoByTwoGroups.flatMap { $0 }) == Set(0..<48))
        #expect(BaselineAlgorithm.bestChoice(cells: 4).apply(to: module) == CalQTestData.module([4: 3, 5: 3, 17: 2, 42: 4]))
        #expect(BaselineAlgorithm.bestChoice(cells: 14).apply(to: module) == module)
        let other = CalQTestData.module([0: 1, 1: 1, 2: 1])
        #expect(BaselineAlgorithm.bestChoice(cells: 2).apply(to: other) == CalQTestData.module([0: 1, 1: 1]))
        #expect(BaselineAlgorithm.standardSet(for: ELinkBudget(links: 3)!).map(\.name) == ["thr_lo", "thr_hi", "stc", "stc4", "bc"])
    }

    @Test("QKeras quantizers as fixed point")
    func quantizers() {
        let input = FixedPointQuantizer.bits(10, integer: 3)
        #expect(input.leastSignificantBit == 1.0 / 64 && input.lowest == -8 && input.highest == 8 - 1.0 / 64)
        let weights = FixedPointQuantizer.bits(5, integer: 1)
        #expect(weights.lowest == -2 && weights.highest == 1.875)
        let latent = FixedPointQuantizer.relu(9, integer: 1)
        #expect(latent.highest == 511.0 / 256 && latent.lowest == 0)
        #expect(FixedPointQuantizer.relu(11, integer: 3).highest == 8 - 1.0 / 256)
        // Round half to even: 0.5 and 1.5 LSB go to 0 and 2 LSB; saturation; negative clipped by relu.
        #expect(latent(0.5 / 256) == 0 && latent(1.5 / 256) == 2.0 / 256 && latent(3) == 511.0 / 256 && latent(-1) == 0)
        #expect(weights(-3) == -2 && weights(0.06) == 0 && weights(0.0625) == 0 && weights(0.1875) == 0.25)
    }

    @Test("Default network: layers, parameter counts, TensorFlow FLOPs = 6,544")
    func defaultNetwork() throws {
        let network = try #require(NetworkDescription.named(NetworkDescription.defaultName))
        let budget = ELinkBudget(links: 5)!
        let summary = try network.spec(budget: budget).summary()
        #expect(summary.parameters(in: ["encoder"]) == 2144)
        #expect(summary.parameters(in: ["decoder"]) == 2833)
        #expect(summary.tensorflowFLOPs(in: ["encoder"]) == 6544)
        #expect(summary.layers.first { $0.block == "decoder" && $0.kind == "Reshape" }?.outputShape == [8, 4, 4])
        #expect(network.loss == .telescope && !network.quantized)
        #expect(summary.shapes["encoder"] == [16] && summary.shapes["decoder"] == [8, 8, 1])
        let pool = try #require(NetworkDescription.named("8x8_c8_pool_tele"))
        let pooled = try pool.spec(budget: budget).summary()
        #expect(pooled.layers.first { $0.block == "decoder" && $0.kind == "Reshape" }?.outputShape == [8, 4, 4])
        #expect(pooled.parameters(in: ["encoder"]) == 2144)
        // Pooling model: conv 2·9·64·8 + 512, pool 4·128, dense 4096 + 16.
        #expect(pooled.tensorflowFLOPs(in: ["encoder"]) == 9216 + 512 + 512 + 4096 + 16)
        let quantized = try #require(NetworkDescription.named("8x8_c8_S2_qK_RTL"))
        let layers = try quantized.spec(budget: ELinkBudget(links: 2)!).blocks[0].layers
        #expect(layers.first { if case .quantize = $0 { return true } else { return false } } == .quantize(.bits(bits: 10, integer: 3)))
        #expect(layers.last == .quantize(.relu(bits: 3, integer: 1)))
        #expect(NetworkDescription.catalog.count == Set(NetworkDescription.catalog.map(\.name)).count)
    }

    @Test("--models \"\": every catalog network whose EMD-CNN critic, if its loss needs one, exists")
    func trainableCatalogNetworks() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-selection")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = StudyOptions(inputs: [], outputDirectory: directory.path)
        let catalog = NetworkDescription.catalog.map(\.name)
        let needsCritic = NetworkDescription.catalog.filter { if case .emdCNN = $0.loss { return true } else { return false } }.map(\.name)
        #expect(!needsCritic.isEmpty && needsCritic.contains("8x8_c8_S2_emdCNN"))
        #expect(options.trainableCatalogNetworks == catalog.filter { !needsCritic.contains($0) })

        let critics = EMDCriticTraining.directory(output: directory.path)
        try FileManager.default.createDirectory(atPath: critics, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: EMDCritic.weightsPath(name: "ae_mse", directory: critics), contents: Data()))
        #expect(options.trainableCatalogNetworks.contains("8x8_c8_S2_emdCNN"))

        // --loss replaces every network's loss: telescope needs no critic, an absent critic rules out all.
        options.loss = .telescope
        #expect(options.trainableCatalogNetworks == catalog)
        options.loss = .emdCNN(name: "absent")
        #expect(options.trainableCatalogNetworks.isEmpty)
    }

    @Test("Evaluation binning: Ecoder's bins and slices")
    func evaluationBinning() {
        #expect(EvaluationBinning.occupancy.edges == (0...12).map { 2 * Double($0) })
        #expect(EvaluationBinning.logMaxCharge.binCount == 20 && EvaluationBinning.logMaxCharge.upperEdge == 2.5)
        #expect(EvaluationBinning.slice(of: 12, lowerBounds: EvaluationBinning.occupancySlices) == 3)
        #expect(EvaluationBinning.slice(of: 70, lowerBounds: EvaluationBinning.maxChargeSlices) == 4)
    }

    @Test("RTL verification CSVs")
    func verificationFiles() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-verify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let rows = 3
        let tables = VerificationTables(rows: rows, inputImage: (0..<(rows * 64)).map { Float($0) / 64 },
                                        inputImageADC: [Float](repeating: 35, count: rows * 64),
                                        inputCalQ: (0..<(rows * 48)).map { Double($0) / 8 }, latent: [Float](repeating: 0.25, count: rows * 16),
                                        latentWidth: 16, decodedImage: [Float](repeating: 0, count: rows * 64),
                                        decodedCalQ: [Double](repeating: 1.0 / 3, count: rows * 48))
        try tables.write(to: directory.path, rowLimit: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["verify_decoded.csv", "verify_decoded_calQ.csv", "verify_input_ae.csv", "verify_input_ae_abs.csv",
                          "verify_input_calQ.csv", "verify_output.csv"])
        let calQ = try String(contentsOf: directory.appendingPathComponent("verify_input_calQ.csv"), encoding: .utf8)
        let lines = calQ.split(separator: "\n")
        #expect(lines.count == 2 && lines[1].split(separator: ",").count == 48)
        #expect(lines[1].hasPrefix("6.000000000000,6.125000000000,"))
        let decoded = try String(contentsOf: directory.appendingPathComponent("verify_decoded_calQ.csv"), encoding: .utf8)
        #expect(decoded.hasPrefix("0.333333333333,"))
    }

    @Test("Baselines and exact EMD on the real validation modules", .requiresShared)
    func realValidation() throws {
        let modules = try CalQTestData.load("ttbar_0PU.csv")
        let kept = modules.droppingEmptyModules()
        let validation = kept.rows(ValidationSplit(rows: kept.rows).validation)
        let normalized = NormalizedModules(validation)
        let inputMIPT = normalized.inputChargesMIPT(fromNormalized: normalized.values)
        var means: [String: Double] = [:]
        for (name, algorithm) in BaselineAlgorithm.standardSet(for: ELinkBudget(links: 5)!) {
            let summary = MetricSummary(values: ModuleMetric.emd.values(input: inputMIPT, output: algorithm.apply(to: inputMIPT)))
            means[name] = summary.mean
            #expect(summary.count + summary.emptyOutputCount == validation.rows && summary.emptyInputCount == 0)
        }
        // Few cells are hit at 0 PU: 14-cell best choice is nearly lossless, block STC is coarse.
        let bc = try #require(means["bc"]), stc = try #require(means["stc"]), stc4 = try #require(means["stc4"])
        #expect(bc < 0.2 && stc4 < stc && bc < stc4)
    }
}
