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
        let encoder = network.encoderLayers(budget: budget)
        #expect(NetworkDescription.parameterCount(encoder) == 2144)
        #expect(NetworkDescription.parameterCount(network.decoderLayers) == 2833)
        #expect(NetworkDescription.floatingPointOperations(encoder) == 6544)
        #expect(network.convolutionOutputShape == [4, 4, 8])
        #expect(network.loss == .telescope && !network.quantized)
        var shape: [Int] = []
        for layer in network.decoderLayers { shape = layer.outputShape(shape) ?? [] }
        #expect(shape == [8, 8, 1])
        let pool = try #require(NetworkDescription.named("8x8_c8_pool_tele"))
        #expect(pool.convolutionOutputShape == [4, 4, 8])
        #expect(NetworkDescription.parameterCount(pool.encoderLayers(budget: budget)) == 2144)
        // Pooling model: conv 2·9·64·8 + 512, pool 4·128, dense 4096 + 16.
        #expect(NetworkDescription.floatingPointOperations(pool.encoderLayers(budget: budget)) == 9216 + 512 + 512 + 4096 + 16)
        let quantized = try #require(NetworkDescription.named("8x8_c8_S2_qK_RTL"))
        let layers = quantized.encoderLayers(budget: ELinkBudget(links: 2)!)
        #expect(layers.first { if case .quantize = $0 { return true } else { return false } } == .quantize(.bits(10, integer: 3)))
        #expect(layers.last == .quantize(.relu(3, integer: 1)))
        #expect(NetworkDescription.catalog.count == Set(NetworkDescription.catalog.map(\.name)).count)
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

    @Test("Baselines and exact EMD on the real validation modules")
    func realValidation() throws {
        guard let modules = try CalQTestData.load("ttbar_0PU.csv", for: "ECON-T baselines on ttbar") else { return }
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
