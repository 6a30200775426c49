import HEPMLCore
import Testing

@Suite struct BinningTests {
    @Test("Uniform edges are numpy.linspace's, bit for bit (uproot's axis.edges())")
    func uniformEdgesMatchLinspace() {
        // numpy.linspace(lower, upper, count + 1), printed with repr.
        #expect(Binning.uniformEdges(count: 10, lower: 0, upper: 1)
            == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1.0])
        #expect(Binning.uniformEdges(count: 6, lower: -Double.pi, upper: Double.pi)
            == [-3.141592653589793, -2.0943951023931957, -1.0471975511965979, 0.0, 1.0471975511965974, 2.094395102393195, 3.141592653589793])
        #expect(Binning.uniformEdges(count: 3, lower: 0.1, upper: 0.7) == [0.1, 0.3, 0.5, 0.7])
        #expect(Array(Binning.uniformEdges(count: 64, lower: -Double.pi, upper: Double.pi)[30..<35])
            == [-0.1963495408493623, -0.09817477042468115, 0.0, 0.09817477042468115, 0.1963495408493623])
        #expect(Binning.uniformEdges(count: 0, lower: 2, upper: 5) == [2])
        #expect(Binning.uniformEdges(count: -1, lower: 2, upper: 5).isEmpty)
        #expect(Binning(count: 0, lower: 0, upper: 1).binCount == 1)
    }

    @Test("Lookup: bins closed on the left, upper edge is overflow, NaN nowhere")
    func locations() throws {
        let uniform = Binning(count: 4, lower: 0, upper: 2)
        #expect(uniform.location(of: -0.1) == .underflow)
        #expect(uniform.location(of: 0) == .bin(0))
        #expect(uniform.location(of: 0.5) == .bin(1))
        #expect(uniform.location(of: 1.999) == .bin(3))
        #expect(uniform.location(of: 2) == .overflow)
        #expect(uniform.location(of: .infinity) == .overflow)
        #expect(uniform.location(of: -.infinity) == .underflow)
        #expect(uniform.location(of: .nan) == nil)
        #expect(uniform.bin(of: 2) == nil && uniform.bin(of: 2, includingUpperEdge: true) == 3)
        #expect(uniform.bin(of: -1, includingUpperEdge: true) == nil)
        #expect(uniform.clampedBin(of: -5) == 0 && uniform.clampedBin(of: 7) == 3 && uniform.clampedBin(of: .nan) == nil)
        #expect(uniform.clampedCounts([-1, 0.2, 0.7, 0.8, 5, .nan], weight: 0.5) == [1, 1, 0, 0.5])
        #expect(uniform.centers == [0.25, 0.75, 1.25, 1.75] && uniform.widths == [0.5, 0.5, 0.5, 0.5])

        let variable = try #require(Binning(edges: [0, 1, 1, 10]))
        #expect(variable.location(of: 1) == .bin(2))  // the empty bin [1, 1) holds nothing
        #expect(variable.location(of: 0.99) == .bin(0))
        #expect(variable.location(of: 10) == .overflow)
        #expect(Binning(edges: [1]) == nil)
        #expect(Binning(edges: [0, 2, 1]) == nil)
        #expect(Binning(edges: [0, .nan]) == nil)
        #expect(Binning(edges: [0, .infinity]) == nil)
    }

    @Test("A uniform lookup agrees with its edges exactly, also at edges its arithmetic guess misses")
    func uniformLookupAgreesWithEdges() throws {
        for (count, lower, upper) in [(60, -3.0, 3.0), (64, -Double.pi, Double.pi), (34, -1.479, 1.479), (50, 0.0, 0.3), (7, 1e-3, 1e3)] {
            let uniform = Binning(count: count, lower: lower, upper: upper)
            let variable = try #require(Binning(edges: uniform.edges))
            for (index, edge) in uniform.edges.dropLast().enumerated() {
                #expect(uniform.location(of: edge) == .bin(index))
                #expect(uniform.location(of: edge.nextDown) == (index == 0 ? .underflow : .bin(index - 1)))
                #expect(uniform.location(of: edge.nextUp) == variable.location(of: edge.nextUp))
            }
            var generator = SeededGenerator(seed: UInt64(count))
            for _ in 0..<2000 {
                let value = lower - 0.1 * (upper - lower) + 1.2 * (upper - lower) * generator.nextUniform()
                #expect(uniform.location(of: value) == variable.location(of: value), "\(value) in \(count) bins [\(lower), \(upper)]")
            }
        }
    }

    @Test("Degenerate uniform ranges put every value outside instead of trapping")
    func degenerateRanges() {
        let empty = Binning(count: 3, lower: 1, upper: 1)
        #expect(empty.location(of: 1) == .overflow && empty.location(of: 0) == .underflow)
        let reversed = Binning(count: 3, lower: 2, upper: 1)
        #expect(reversed.location(of: 1.5) == .underflow && reversed.location(of: 2.5) == .overflow)
        // numpy.linspace(-inf, 1, 4) is [nan, nan, nan, 1] too: 0 · ∞ is NaN.
        let unbounded = Binning(count: 3, lower: -.infinity, upper: 1)
        #expect(unbounded.location(of: 0) == .underflow)
        #expect(Binning(count: 3, lower: .nan, upper: 1).location(of: 0) == .underflow)
    }
}
