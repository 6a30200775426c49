import Foundation
import HEPMLTensor

/// One-cycle training as fastai v1's `fit_one_cycle` runs it: the learning rate follows the
/// `.oneCycle` schedule (cosine from max/`divFactor` up to max over `pctStart` of the steps, then cosine
/// down to max/(`divFactor`·`finalDivision`)), and Adam's β₁ follows the inverse path
/// `moms.0 → moms.1 → moms.0` with the same phases.
public struct OneCycle: Codable, Equatable, Sendable {
    public var pctStart = 0.3
    public var divFactor = 25.0
    /// fastai's `final_div` is div_factor·1e4: the final rate is max/(25·1e4).
    public var finalDivision = 1e4
    public var maximumMomentum = 0.95
    public var minimumMomentum = 0.85

    public init() {}

    public var schedule: LearningRateSchedule {
        .oneCycle(warmupFraction: pctStart, divisor: divFactor, finalDivisor: finalDivision)
    }

    /// β₁ at `step` of `totalSteps`, the phases of `LearningRateSchedule.oneCycle`.
    public func momentum(step: Int, totalSteps: Int) -> Double {
        let warmup = max(Double(totalSteps) * pctStart, 1)
        func cosine(_ start: Double, _ end: Double, _ t: Double) -> Double { end + (start - end) * (1 + cos(Double.pi * min(max(t, 0), 1))) / 2 }
        if Double(step) < warmup { return cosine(maximumMomentum, minimumMomentum, Double(step) / warmup) }
        return cosine(minimumMomentum, maximumMomentum, (Double(step) - warmup) / max(Double(totalSteps) - warmup - 1, 1))
    }
}

/// Adam whose β₁ follows `OneCycle.momentum` (the inverse momentum of one-cycle training, which
/// goes with the `.oneCycle` learning-rate schedule); the step count is Adam's own, so a resumed
/// run continues the cycle where it stopped.
public final class OneCycleAdam: Optimizer {
    public let adam: Adam<Float>
    public let cycle: OneCycle
    public let totalSteps: Int
    private var steps = 0

    public init(_ adam: Adam<Float>, cycle: OneCycle, totalSteps: Int) {
        self.adam = adam
        self.cycle = cycle
        self.totalSteps = totalSteps
    }

    public var learningRate: Double {
        get { adam.learningRate }
        set { adam.learningRate = newValue }
    }

    public func step() {
        adam.beta1 = cycle.momentum(step: steps, totalSteps: totalSteps)
        adam.step()
        steps += 1
    }

    public var state: OptimizerState { adam.state }

    public func load(_ state: OptimizerState) throws {
        try adam.load(state)
        steps = state.steps
    }
}
