import Foundation

/// One algorithm's reconstruction of the validation modules and its per-module metrics.
public struct AlgorithmResult: Sendable {
    public let name: String
    /// `rows × 48`, CALQ order, MIP_T.
    public let output: [Double]
    public let metrics: [(metric: ModuleMetric, values: [Double])]

    public init(name: String, input: [Double], output: [Double], metrics: [ModuleMetric]) {
        self.name = name
        self.output = output
        self.metrics = metrics.map { ($0, $0.values(input: input, output: output)) }
    }

    public func values(_ metric: ModuleMetric) -> [Double]? { metrics.first { $0.metric == metric }?.values }
    public func summary(_ metric: ModuleMetric) -> MetricSummary? { values(metric).map(MetricSummary.init(values:)) }
}

/// The autoencoder on the validation modules (Ecoder `evaluate_model`): latents, decoded
/// modules restored to absolute charge, per-module metrics and the RTL-verification tables.
public struct Evaluation {
    public let rows: Int
    /// `rows × 48`, CALQ order, MIP_T: what every algorithm is compared against.
    public let inputCalQ: [Double]
    /// TCs above 1 MIP_T per module.
    public let occupancy: [Double]
    /// log10 of the largest TC charge (MIP_T).
    public let logMaxCharge: [Double]
    public let latent: [Float]
    public let autoencoder: AlgorithmResult
    public let verificationTables: VerificationTables

    public init(autoencoder model: ECONTAutoencoder, images: [Float], data: StudyData, options: StudyOptions) throws {
        let normalized = data.validationNormalized
        rows = normalized.rows
        let arrangement = model.network.arrangement
        let (latent, decoded) = try model.predict(images: images, rows: rows)
        self.latent = latent
        inputCalQ = Self.inputCharges(normalized)
        occupancy = Self.occupancy(inputCalQ)
        logMaxCharge = normalized.maxChargeMIPT.map { log10($0) }
        let decodedCalQ = arrangement.calQ(fromImages: decoded, rows: rows)
        let output = normalized.outputChargesMIPT(fromDecoded: decodedCalQ, scaling: options.outputScaling)
        autoencoder = AlgorithmResult(name: "ae", input: inputCalQ, output: output, metrics: ModuleMetric.selection(full: options.full))
        let pixels = arrangement.pixelCount
        var imagesADC = images
        for row in 0..<rows {
            let scale = Float((normalized.scaling == .sumPowerOfTwo ? normalized.sumScaleMIPT[row] : normalized.maxChargeMIPT[row]) * adcPerMIPT)
            for pixel in 0..<pixels { imagesADC[row * pixels + pixel] *= scale }
        }
        verificationTables = VerificationTables(rows: rows, inputImage: images, inputImageADC: imagesADC, inputCalQ: inputCalQ,
                                                latent: latent, latentWidth: model.latentWidth, decodedImage: decoded, decodedCalQ: decodedCalQ)
    }

    /// Ecoder's `input_calQ`: the normalized inputs times their scale, in MIP_T.
    static func inputCharges(_ normalized: NormalizedModules) -> [Double] {
        normalized.inputChargesMIPT(fromNormalized: normalized.values)
    }

    static func occupancy(_ charges: [Double]) -> [Double] {
        stride(from: 0, to: charges.count, by: triggerCellCount).map { start in
            Double(charges[start ..< start + triggerCellCount].count { $0 > 1.0 })
        }
    }

    /// Every baseline of the budget on the validation modules (independent of the networks).
    public static func baselines(data: StudyData, budget: ELinkBudget, metrics: [ModuleMetric]) -> [AlgorithmResult] {
        let input = inputCharges(data.validationNormalized)
        return BaselineAlgorithm.standardSet(for: budget).map { name, algorithm in
            AlgorithmResult(name: name, input: input, output: algorithm.apply(to: input), metrics: metrics)
        }
    }
}
