@testable import HEPMLPlot
import Testing

@Suite struct TickTests {
    @Test func linearTicksUseNiceSteps() {
        let ticks = TickGenerator.ticks(for: 0...1, scale: .linear, targetCount: 5)
        #expect(ticks.majors.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(ticks.minors.count == 15)  // a step of 0.2 is cut in quarters: three minors per gap
        #expect(ticks.offsetLabel == nil)
    }

    @Test func negativeValuesUseATypographicMinusAndNoNegativeZero() {
        let ticks = TickGenerator.ticks(for: -0.02...0.02, scale: .linear, targetCount: 3)
        #expect(ticks.majors.map(\.label) == ["\u{2212}0.02", "0.00", "0.02"])
    }

    @Test func stepOfTwoAndAHalfGetsAnExtraDecimal() {
        let ticks = TickGenerator.ticks(for: 0...10, scale: .linear, targetCount: 4)
        #expect(ticks.majors.map(\.label) == ["0.0", "2.5", "5.0", "7.5", "10.0"])
    }

    @Test func largeValuesFactorOutAPowerOfTen() {
        let ticks = TickGenerator.ticks(for: 0...50000, scale: .linear, targetCount: 5)
        #expect(ticks.offsetLabel == "×10^{4}")
        #expect(ticks.majors.map(\.label) == ["0", "1", "2", "3", "4", "5"])
    }

    @Test func logTicksLabelDecadesWithMinorTicksBetween() {
        let ticks = TickGenerator.ticks(for: 1e-3...1e2, scale: .log, targetCount: 6)
        #expect(ticks.majors.map(\.label) == ["10^{\u{2212}3}", "10^{\u{2212}2}", "10^{\u{2212}1}", "10^{0}", "10^{1}", "10^{2}"])
        #expect(ticks.minors.count == 5 * 8)
        #expect(ticks.minors.contains { abs($0 - 0.002) < 1e-12 })
    }

    @Test func wideLogRangesThinOutDecades() {
        let ticks = TickGenerator.ticks(for: 1e-12...1e12, scale: .log, targetCount: 4)
        #expect(ticks.majors.count <= 7)
        #expect(ticks.majors.count >= 3)
    }

    @Test func logRangeBelowADecadeStillHasLabels() {
        let ticks = TickGenerator.ticks(for: 2...8, scale: .log, targetCount: 4)
        #expect(ticks.majors.count >= 2)
        #expect(ticks.majors.allSatisfy { $0.value >= 2 && $0.value <= 8 })
    }

    @Test func markupSplitsSuperscriptsAndSubscripts() {
        let runs = TextMarkup.runs("p_{T} ×10^{3}")
        #expect(runs.map(\.text) == ["p", "T", " ×10", "3"])
        #expect(runs[1].rise < 0 && runs[3].rise > 0)
        #expect(TextMarkup.plainText("10^{\u{2212}2}") == "10\u{2212}2")
        // Unbalanced markup stays literal instead of being dropped.
        #expect(TextMarkup.plainText("a^{b") == "a^{b")
    }
}
