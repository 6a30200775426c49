import HEPMLCore
import HEPMLTensor

/// A VAE bottleneck on the last axis: μ = Linear(F, F)(h), log σ² = Linear(F, F)(h). In training
/// z = μ + ε·exp(½ log σ²) with ε ~ N(0, 1) from its own seeded generator (one stream per
/// epoch, as `Dropout`, so a resumed run draws what an uninterrupted one draws); in inference
/// z = μ. Every forward pass leaves β·KL with KL = −½ Σ (1 + log σ² − μ² − σ²) (summed over
/// the batch and the latent axis) as its auxiliary loss.
public final class VariationalBottleneck<T: TensorScalar>: Module<T> {
    public let mean: Linear<T>
    public let logVariance: Linear<T>
    /// β, the weight of the KL term.
    public let klWeight: Double
    private var random: EpochSeededGenerator
    private var divergence: Variable<T>?

    public init(features: Int, klWeight: Double, seed: UInt64, generator: inout SeededGenerator) {
        mean = Linear(features, features, generator: &generator)
        logVariance = Linear(features, features, generator: &generator)
        self.klWeight = klWeight
        random = EpochSeededGenerator(seed: seed, stream: 0xAE)
        super.init()
    }

    public override func epochWillBegin(_ epoch: Int) { random.begin(epoch: epoch) }

    public override var kind: String { "VariationalBottleneck" }
    public override var children: [(String, Module<T>)] { [("mean", mean), ("log_variance", logVariance)] }
    public override var settings: [String: String] { ["features": "\(mean.inFeatures)", "klWeight": "\(klWeight)"] }
    public override var localAuxiliaryLosses: [Variable<T>] { divergence.map { [$0] } ?? [] }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        let mu = try call(mean, named: "mean", x)
        let logVar = try call(logVariance, named: "log_variance", x)
        divergence = try (mu.squared() + logVar.exp() - logVar + -1).sum() * T(klWeight / 2)
        guard isTraining else { return mu }
        let noise = try Tensor<T>(shape: mu.shape, scalars: (0..<mu.value.count).map { _ in T(random.generator.nextNormal()) })
        return try mu + (logVar * T(0.5)).exp() * Variable(noise)
    }
}
