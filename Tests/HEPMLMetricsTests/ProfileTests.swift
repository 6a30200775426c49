import HEPMLCore
import HEPMLMetrics
import Testing

@Suite struct ProfileTests {
    @Test("Quantiles interpolate linearly between order statistics (numpy's default)")
    func quantiles() {
        #expect(abs(Quantile.ofSorted([1, 2, 3, 4, 5], 0.16) - 1.64) < 1e-12)
        #expect(Quantile.ofSorted([1, 2, 3, 4, 5], 0.5) == 3 && Quantile.ofSorted([1, 2], 1) == 2)
        #expect(Quantile.ofSorted([], 0.5).isNaN)
    }

    @Test("Median and band per bin; the last bin includes its upper edge")
    func profile() throws {
        let binning = try #require(Binning(edges: [0, 1, 2]))
        let profile = try QuantileProfile(x: [0.5, 0.5, 0.5, 1.5, 2.0, 3.0, -1, .nan], y: [1, 2, 3, 10, 20, 99, 7, 7], binning: binning)
        #expect(profile.bins.map(\.count) == [3, 2])
        #expect(profile.bins[0].median == 2 && abs(profile.bins[0].lower - 1.32) < 1e-12 && abs(profile.bins[0].upper - 2.68) < 1e-12)
        #expect(profile.bins[1].median == 15 && profile.bins[1].center == 1.5)
        let wide = try QuantileProfile(x: [0.5, 0.5, 0.5], y: [1, 2, 3], binning: Binning(count: 2, lower: 0, upper: 2), band: 0...1)
        #expect(wide.bins[0].lower == 1 && wide.bins[0].upper == 3)
        #expect(wide.bins[1].count == 0 && wide.bins[1].median.isNaN)
        #expect(throws: MetricsError.self) { try QuantileProfile(x: [1], y: [], binning: binning) }
    }
}
