import Testing
@testable import HEPMLECONT

@Suite("ECON-T data preparation")
struct DataTests {
    @Test("8×8 arrangement: image layout and inverse equal Ecoder's remap_8x8")
    func eightByEight() throws {
        let layout = Arrangement.eightByEight
        let remap = [4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31,
                     24, 25, 26, 27, 16, 17, 18, 19, 8, 9, 10, 11, 0, 1, 2, 3,
                     59, 51, 43, 35, 58, 50, 42, 34, 57, 49, 41, 33, 56, 48, 40, 32]
        #expect(layout.inverse == remap)
        #expect(Set(layout.source) == Set(0..<48))
        // A module whose charge is its CALQ index + 1 shows the TC ids in the image.
        let module = ModuleCharges(values: (0..<48).map { Double($0 + 1) })!
        let image = layout.arrange(module.values, rows: 1)
        #expect(image[0..<8].map { Int($0) - 1 } == [28, 29, 30, 31, 0, 4, 8, 12])
        #expect(image[32..<40].map { Int($0) - 1 } == [47, 43, 39, 35, -1, -1, -1, -1])
        #expect(image[60] == 0 && image[63] == 0)
        #expect(layout.calQ(fromImages: image, rows: 1) == module.values)
    }

    @Test("4×4×3 and 6×6×3 arrangements invert to the spec's remaps")
    func otherArrangements() {
        #expect(Arrangement.fourByFourByThree.inverse == (0..<16).map { 3 * $0 } + (0..<16).map { 3 * $0 + 1 } + (0..<16).map { 3 * $0 + 2 })
        #expect(Arrangement.fourByFourByThree.source.prefix(6) == [0, 16, 32, 1, 17, 33])
        let remap663 = [25, 26, 27, 28, 19, 20, 21, 22, 13, 14, 15, 16, 7, 8, 9, 10,
                        61, 62, 63, 64, 55, 56, 57, 58, 49, 50, 51, 52, 43, 44, 45, 46,
                        97, 98, 99, 100, 91, 92, 93, 94, 85, 86, 87, 88, 79, 80, 81, 82]
        #expect(Arrangement.sixBySixByThree.inverse == remap663)
        let charges = (0..<48).map { Double($0) * 0.5 + 1 }
        for layout in Arrangement.all {
            #expect(layout.calQ(fromImages: layout.arrange(charges, rows: 1), rows: 1) == charges, "\(layout.name)")
        }
        // The transposed layout moves block b of pixel q to flat position 3q + b.
        let tp = Arrangement.sixBySixByThreeTransposed
        #expect(tp.source[3 * 7 + 1] == Arrangement.sixBySixByThree.source[36 + 7])
    }

    @Test("Sum power-of-two normalization, max variant, and the inverses")
    func normalization() {
        let module = CalQTestData.module([0: 60, 5: 30, 47: 10])  // sum 100 → 64
        let modules = ModuleCharges(values: module + [Double](repeating: 0, count: 48))!
        let normalized = NormalizedModules(modules)
        #expect(normalized.values[0] == 60.0 / 64 && normalized.values[47] == 10.0 / 64)
        #expect(normalized.sumScaleMIPT == [64.0 / 35, 0])
        #expect(normalized.maxChargeMIPT == [60.0 / 35, 0])
        let restored = normalized.inputChargesMIPT(fromNormalized: normalized.values)
        #expect(abs(restored[0] - 60.0 / 35) < 1e-12)
        // Decoded fractions summing to 3 (power 2) scale by sum-scale / 2.
        var decoded = [Double](repeating: 0, count: 96)
        decoded[1] = 2; decoded[2] = 1
        let output = normalized.outputChargesMIPT(fromDecoded: decoded)
        #expect(abs(output[1] - 2 * (64.0 / 35) / 2) < 1e-12 && output[48...].allSatisfy { $0 == 0 })
        let byMaximum = NormalizedModules(modules, scaling: .maximum)
        #expect(byMaximum.values[0] == 1 && byMaximum.values[5] == 0.5)
        let maxOutput = byMaximum.outputChargesMIPT(fromDecoded: decoded, scaling: .maximum)
        #expect(abs(maxOutput[1] - 60.0 / 35) < 1e-12)
        #expect(powerOfTwoFloor(100) == 64 && powerOfTwoFloor(64) == 64 && powerOfTwoFloor(0.75) == 0.5 && powerOfTwoFloor(0) == 0)
    }

    @Test("--double, empty-module drop, occupancy, splits")
    func rowsAndSplits() {
        let a = CalQTestData.module([0: 1, 1: 40]), b = CalQTestData.module([0: 2]), empty = CalQTestData.module([:])
        let modules = ModuleCharges(values: a + b + empty)!
        #expect(modules.pairwiseSummed().values == CalQTestData.module([0: 3, 1: 40]))
        #expect(modules.droppingEmptyModules().rows == 2)
        #expect(modules.occupancy(above: 0) == [2, 1, 0])
        #expect(modules.occupancy(above: 35) == [1, 0, 0])
        let split = ValidationSplit(rows: 38382)
        #expect(split.validation.count == 7676 && split.validation.first == 0 && split.training.first == 7676)
        #expect(ValidationSplit(rows: 5).validation == [0])  // round(1.0)
        #expect(ValidationSplit(rows: 10, validationFraction: 0.25).validation.count == 2)  // round(2.5) = 2, half to even
        let random = ValidationSplit(rows: 100, randomSeed: 7)
        #expect(random.validation.count == 20 && Set(random.validation + random.training) == Set(0..<100))
        #expect(random == ValidationSplit(rows: 100, randomSeed: 7) && random != ValidationSplit(rows: 100, randomSeed: 8))
        #expect(split.limitingValidation(to: 10).validation == Array(0..<10))
        #expect(split.limitingTraining(to: 5000).training.count == 5000)
        #expect(ValidationSplit.evaluationOnly(rows: 3).validation == [0, 1, 2])
    }

    @Test("Real ttbar 0 PU file: 38,382 modules, 7,676 for validation", .requiresShared)
    func realData() throws {
        let modules = try CalQTestData.load("ttbar_0PU.csv")
        #expect(modules.rows == 38382)
        let kept = modules.droppingEmptyModules()
        #expect(ValidationSplit(rows: kept.rows).validation.count == 7676)
        let normalized = NormalizedModules(kept)
        for row in stride(from: 0, to: kept.rows, by: 997) {
            let sum = normalized.values[row * 48 ..< (row + 1) * 48].reduce(0, +)
            #expect(sum >= 1 && sum < 2)
        }
    }
}
