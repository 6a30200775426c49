import COpenBLAS
import HEPMLCore
import HEPMLTensor
import Foundation

/// Principal component analysis of normalized histograms, AutoDQM_ML's PCA algorithm.
///
/// The stored fields use scikit-learn's attribute names, so a scikit-learn user can set them on
/// an unfitted `sklearn.decomposition.PCA` and get the same transform and reconstruction.
/// Everything is Float64 as in scikit-learn: reconstruction errors of normalized histograms are
/// small differences of numbers near each other.
public struct PCAModel: Codable, Sendable, Equatable {
    /// AutoDQM_ML's file stem, `pca_<sanitized histogram>_<tag>`.
    public var name: String
    /// Principal axes, `[n_components][n_features]`, unit rows, signs as scikit-learn chooses
    /// them (the largest-magnitude entry of each row positive).
    public var components: [[Double]]
    public var explainedVariance: [Double]
    public var explainedVarianceRatio: [Double]
    public var singularValues: [Double]
    public var mean: [Double]
    public var componentCount: Int
    public var featureCount: Int
    public var sampleCount: Int
    /// Mean of the variances of the discarded components (scikit-learn's probabilistic PCA noise).
    public var noiseVariance: Double
    /// The minimum-occupancy rebinning applied before the PCA, when one was used; not a
    /// scikit-learn attribute (scikit-learn ignores it), stored so scoring repeats it exactly.
    public var rebinMap: RebinMap?

    enum CodingKeys: String, CodingKey {
        case name
        case components = "components_"
        case explainedVariance = "explained_variance_"
        case explainedVarianceRatio = "explained_variance_ratio_"
        case singularValues = "singular_values_"
        case mean = "mean_"
        case componentCount = "n_components_"
        case featureCount = "n_features_in_"
        case sampleCount = "n_samples_"
        case noiseVariance = "noise_variance_"
        case rebinMap = "hepml_rebin_map"
    }

    /// AutoDQM_ML's default latent dimension.
    public static let defaultComponentCount = 2

    /// Fits `componentCount` components to `samples` (rows of equal length) by an exact SVD of the
    /// centred data (LAPACK `dgesdd`).
    public static func fit(samples: [[Double]], componentCount: Int = defaultComponentCount, name: String) throws -> PCAModel {
        let rows = samples.count
        guard rows >= 2 else { throw DQMError.insufficientData("PCA needs at least 2 training runs, got \(rows)") }
        let columns = samples[0].count
        guard columns >= 1, samples.allSatisfy({ $0.count == columns }) else {
            throw DQMError.invalidHistogram("PCA training histograms differ in bin count")
        }
        let rank = min(rows, columns)
        guard componentCount >= 1, componentCount <= rank else {
            throw DQMError.invalidConfiguration("n_components must be between 1 and min(runs, bins) = \(rank), got \(componentCount)")
        }
        guard rows <= Int(Int32.max), columns <= Int(Int32.max), rows.multipliedReportingOverflow(by: columns).overflow == false else {
            throw DQMError.invalidConfiguration("PCA input of \(rows)×\(columns) is too large")
        }
        var mean = [Double](repeating: 0, count: columns)
        for sample in samples {
            for j in 0..<columns { mean[j] += sample[j].isFinite ? sample[j] : 0 }
        }
        for j in 0..<columns { mean[j] /= Double(rows) }
        var centred = [Double](repeating: 0, count: rows * columns)
        for (i, sample) in samples.enumerated() {
            for j in 0..<columns { centred[i * columns + j] = (sample[j].isFinite ? sample[j] : 0) - mean[j] }
        }
        var singular = [Double](repeating: 0, count: rank)
        var left = [Double](repeating: 0, count: rows * rank)
        var right = [Double](repeating: 0, count: rank * columns)
        let status = LinearAlgebraLibrary.dgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(rows), Int32(columns),
                                    &centred, Int32(columns), &singular, &left, Int32(rank), &right, Int32(columns))
        guard status == 0 else { throw DQMError.numerical("LAPACKE_dgesdd returned \(status)") }

        var components: [[Double]] = []
        for k in 0..<componentCount {
            var axis = Array(right[(k * columns)..<((k + 1) * columns)])
            let pivot = axis.indices.max { abs(axis[$0]) < abs(axis[$1]) } ?? 0
            if axis[pivot] < 0 { axis = axis.map { -$0 } }
            components.append(axis)
        }
        let variances = singular.map { $0 * $0 / Double(rows - 1) }
        let totalVariance = variances.reduce(0, +)
        let kept = Array(variances[0..<componentCount])
        let discarded = variances[componentCount...]
        return PCAModel(
            name: name, components: components, explainedVariance: kept,
            explainedVarianceRatio: kept.map { totalVariance > 0 ? $0 / totalVariance : 0 },
            singularValues: Array(singular[0..<componentCount]), mean: mean,
            componentCount: componentCount, featureCount: columns, sampleCount: rows,
            noiseVariance: discarded.isEmpty ? 0 : discarded.reduce(0, +) / Double(discarded.count),
            rebinMap: nil)
    }

    /// Latent coordinates `(x - mean_) · components_ᵀ` of one histogram.
    public func transform(_ sample: [Double]) throws -> [Double] {
        guard sample.count == featureCount else {
            throw DQMError.invalidHistogram("PCA model \(name) expects \(featureCount) bins, got \(sample.count)")
        }
        return components.map { axis in
            var dot = 0.0
            for j in 0..<featureCount { dot += ((sample[j].isFinite ? sample[j] : 0) - mean[j]) * axis[j] }
            return dot
        }
    }

    /// The histogram `latent · components_ + mean_` that latent coordinates stand for.
    public func inverseTransform(_ latent: [Double]) throws -> [Double] {
        guard latent.count == componentCount else {
            throw DQMError.invalidConfiguration("PCA model \(name) has \(componentCount) components, got \(latent.count)")
        }
        var output = mean
        for (k, axis) in components.enumerated() {
            for j in 0..<featureCount { output[j] += latent[k] * axis[j] }
        }
        return output
    }

    /// The projection of `sample` onto the principal subspace.
    public func reconstruct(_ sample: [Double]) throws -> [Double] {
        try inverseTransform(transform(sample))
    }

    /// The anomaly score: sum of squared differences between a histogram and its reconstruction.
    public func score(_ sample: [Double]) throws -> (score: Double, reconstruction: [Double]) {
        let reconstruction = try reconstruct(sample)
        return (sumOfSquaredErrors(sample, reconstruction), reconstruction)
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public init(json data: Data, file: String) throws {
        let model: PCAModel
        do {
            model = try JSONDecoder().decode(PCAModel.self, from: data)
        } catch {
            throw FileFormatError(file: file, reason: "not a PCA model JSON: \(describe(error))")
        }
        guard model.componentCount == model.components.count, model.componentCount >= 1,
              model.mean.count == model.featureCount,
              model.components.allSatisfy({ $0.count == model.featureCount }),
              model.rebinMap.map({ $0.outputBinCount == model.featureCount }) ?? true
        else {
            throw FileFormatError(file: file, object: "components_", reason: "PCA model arrays disagree with n_components_/n_features_in_")
        }
        self = model
    }

    init(name: String, components: [[Double]], explainedVariance: [Double], explainedVarianceRatio: [Double], singularValues: [Double], mean: [Double], componentCount: Int, featureCount: Int, sampleCount: Int, noiseVariance: Double, rebinMap: RebinMap?) {
        self.name = name
        self.components = components
        self.explainedVariance = explainedVariance
        self.explainedVarianceRatio = explainedVarianceRatio
        self.singularValues = singularValues
        self.mean = mean
        self.componentCount = componentCount
        self.featureCount = featureCount
        self.sampleCount = sampleCount
        self.noiseVariance = noiseVariance
        self.rebinMap = rebinMap
    }
}

/// Σ (a − b)², the SSE score of AutoDQM_ML's ML algorithms; non-finite inputs count as 0 as
/// upstream's `nan_to_num` makes them.
public func sumOfSquaredErrors(_ original: [Double], _ reconstruction: [Double]) -> Double {
    var sum = 0.0
    for (a, b) in zip(original, reconstruction) {
        let difference = (a.isFinite ? a : 0) - (b.isFinite ? b : 0)
        sum += difference * difference
    }
    return sum
}
