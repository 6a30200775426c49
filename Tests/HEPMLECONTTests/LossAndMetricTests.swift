import Testing
@testable import HEPMLECONT

@Suite("Telescope loss")
struct TelescopeLossTests {
    @Test("Supercell table: 36 cells, weights sum to 12.5625")
    func table() {
        #expect(TelescopeLoss.supercells.count == 36)
        #expect(abs(TelescopeLoss.supercells.reduce(0) { $0 + $1.weight } - 12.5625) < 1e-12)
        #expect(TelescopeLoss.supercells.allSatisfy { Set($0.cells).count == 4 })
    }

    @Test("Hand-computed values")
    func handComputed() {
        // t = δ_0, p = 0: L1 = 1/48; supercells {0,1,4,5} and {0,1,27,31} (w .375 each): L2 = .75/36; block 0: L3 = 1/3.
        let truth1 = CalQTestData.module([0: 1]).map(Float.init)
        let zero = [Float](repeating: 0, count: 48)
        let (loss1, _) = TelescopeLoss.calQOrder.valueAndGradient(truth: truth1, prediction: zero, batch: 1)
        #expect(abs(loss1 - (4.0 / 48 + 2 * 0.75 / 36 + 1.0 / 3)) < 1e-7)
        // t = 2δ_0, p = δ_0 + δ_1: L1 = (f(2,1)=2 + f(0,1)=1)/48; only {1,2,5,6} and {1,2,23,27}
        // (w .25) differ, each f(0,1) = 1: L2 = .5/36; the block sums agree: L3 = 0.
        let truth2 = CalQTestData.module([0: 2]).map(Float.init)
        let prediction2 = CalQTestData.module([0: 1, 1: 1]).map(Float.init)
        let (loss2, _) = TelescopeLoss.calQOrder.valueAndGradient(truth: truth2, prediction: prediction2, batch: 1)
        #expect(abs(loss2 - (4 * 3.0 / 48 + 2 * 0.5 / 36)) < 1e-7)
        // The batch mean and sample weights (Σ w·loss / batch).
        let (batchLoss, _) = TelescopeLoss.calQOrder.valueAndGradient(truth: truth1 + truth2, prediction: zero + prediction2, batch: 2, sampleWeights: [1, 3])
        #expect(abs(batchLoss - (loss1 + 3 * loss2) / 2) < 1e-7)
    }

    @Test("8×8 images read only the 48 real pixels")
    func imageLayout() {
        let loss = TelescopeLoss(arrangement: .eightByEight)
        let charges = (0..<48).map { Double($0 % 7) * 0.1 }
        let truth = Arrangement.eightByEight.arrange(charges, rows: 1)
        var prediction = truth
        prediction[63] = 5  // a masked pixel: no effect
        let (value, gradient) = loss.valueAndGradient(truth: truth, prediction: prediction, batch: 1)
        #expect(value == 0 && gradient[63] == 0)
    }

    @Test("Analytic gradient matches central finite differences")
    func gradient() {
        let loss = TelescopeLoss(arrangement: .eightByEight)
        let batch = 3
        // Deterministic pseudo-random values in [0, 0.6), some prediction above, some below truth.
        let truth = (0..<(batch * 64)).map { Float(($0 * 37 % 29)) / 48 }
        let prediction = (0..<(batch * 64)).map { Float(($0 * 53 % 31)) / 52 }
        let weights: [Float] = [1, 0.5, 2]
        let (_, analytic) = loss.valueAndGradient(truth: truth, prediction: prediction, batch: batch, sampleWeights: weights)
        let step: Float = 1e-3
        var worst = 0.0
        for index in stride(from: 0, to: batch * 64, by: 5) {
            var up = prediction, down = prediction
            up[index] += step
            down[index] -= step
            let numeric = (loss.valueAndGradient(truth: truth, prediction: up, batch: batch, sampleWeights: weights).loss
                - loss.valueAndGradient(truth: truth, prediction: down, batch: batch, sampleWeights: weights).loss) / Double(2 * step)
            worst = max(worst, abs(numeric - Double(analytic[index])))
        }
        #expect(worst < 2e-4)
        #expect(analytic.contains { $0 != 0 })
    }
}

@Suite("Earth mover's distance")
struct EMDTests {
    @Test("Geometry: TC pitch 2, MAXDIST and coordinate spread as the spec derives")
    func geometry() {
        let d = HexGeometry.distances
        #expect(abs(d[0 * 48 + 1] - 2) < 1e-6)
        #expect(abs(d.max()! - 13.7568) < 1e-4)
        #expect(abs(HexGeometry.sigma.x - 3.6113) < 1e-4 && abs(HexGeometry.sigma.y - 3.6113) < 1e-4)
    }

    func emd(_ x: [Double], _ y: [Double]) -> Double {
        ModuleMetric.emd.values(input: x, output: y)[0]
    }

    @Test("Cases solvable by hand")
    func byHand() {
        #expect(abs(emd(CalQTestData.module([0: 5]), CalQTestData.module([1: 2])) - 2) < 1e-6)
        // Half at TCs 0 and 3 against half at 1 and 2: 0→1 and 3→2 (cost 2) beats the crossing (cost 4).
        #expect(abs(emd(CalQTestData.module([0: 1, 3: 1]), CalQTestData.module([1: 1, 2: 1])) - 2) < 1e-6)
        #expect(emd(CalQTestData.module([7: 3, 30: 1]), CalQTestData.module([7: 6, 30: 2])) < 1e-12)
        #expect(emd(CalQTestData.module([:]), CalQTestData.module([1: 1])) == -1)
        #expect(emd(CalQTestData.module([1: 1]), CalQTestData.module([:])) == -0.5)
    }

    @Test("Dense cases agree with an independent LP solution")
    func againstLinearProgram() {
        // Reference values: scipy.optimize.linprog(method="highs") on the 48×48 transport LP with
        // the spec's normalized hexCoords distances, run at development time (scipy 1.17.1) on
        //   x_i = (7i + 3k) mod 11, zeroed below 5;  y_i = (5i + 13k) mod 9 + i mod 4, zeroed below 3.
        let expected = [1.0763919165736402, 1.1438263218719782, 1.0139017097167213, 0.9965784168165189]
        for k in 0..<4 {
            let x = (0..<48).map { i -> Double in let v = Double((i * 7 + k * 3) % 11); return v < 5 ? 0 : v }
            let y = (0..<48).map { i -> Double in let v = Double((i * 5 + k * 13) % 9 + i % 4); return v < 3 ? 0 : v }
            #expect(abs(emd(x, y) - expected[k]) < 1e-9, "case \(k)")
            #expect(abs(emd(y, x) - expected[k]) < 1e-9, "case \(k) swapped")
        }
    }

    @Test("Summary keeps the empty-module sentinels out of the mean")
    func summary() {
        let summary = MetricSummary(values: [1, 2, 3, -1, -0.5, -0.5])
        #expect(summary.count == 3 && summary.mean == 2 && summary.median == 2)
        #expect(summary.emptyInputCount == 1 && summary.emptyOutputCount == 2)
        #expect(abs(summary.standardDeviation - (2.0 / 3).squareRoot()) < 1e-12)
    }

    @Test("Other metrics on hand-made modules")
    func otherMetrics() {
        let x = CalQTestData.module([0: 1]), y = CalQTestData.module([1: 3])
        // Centroids one TC pitch apart; both spreads equal; SSD = (1 + 9) / (1·3).
        #expect(abs(ModuleMetric.dMean.values(input: x, output: y)[0] - 2) < 1e-6)
        #expect(ModuleMetric.dRMS.values(input: x, output: y)[0] < 1e-9)
        #expect(abs(ModuleMetric.ssd.values(input: x, output: y)[0] - 10.0 / 3) < 1e-12)
        #expect(ModuleMetric.zeroFraction.values(input: x + x, output: y + CalQTestData.module([:])) == [0, 1])
    }
}

@Suite("Weighted MSE loss")
struct WeightedMSELossTests {
    @Test("Value by hand and gradient by finite differences")
    func valueAndGradient() {
        let truth: [Float] = [1, 0, 0.5, 0.25], prediction: [Float] = [0.5, 0.5, 0.5, 0]
        // (0.25·1 + 0.25·0.5 + 0 + 0.0625·0.25) / 4 = 0.09765625
        var gradient = [Float](repeating: 0, count: 4)
        let value = truth.withUnsafeBufferPointer { t in prediction.withUnsafeBufferPointer { p in gradient.withUnsafeMutableBufferPointer { g in
            WeightedMSELoss.evaluate(truth: t, prediction: p, batch: 1, gradient: g) } } }
        #expect(abs(value - 0.09765625) < 1e-9)
        let step: Float = 1e-3
        for index in 0..<4 {
            var up = prediction, down = prediction
            up[index] += step
            down[index] -= step
            let f = { (q: [Float]) in truth.withUnsafeBufferPointer { t in q.withUnsafeBufferPointer { p in WeightedMSELoss.evaluate(truth: t, prediction: p, batch: 1) } } }
            #expect(abs((f(up) - f(down)) / Double(2 * step) - Double(gradient[index])) < 1e-4)
        }
    }
}
