import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLDQM

@Suite struct PreprocessingTests {
    @Test func normalizationAndLowStatistics() {
        #expect(DQMPreprocessing.normalized([1, 3]) == [0.25, 0.75])
        #expect(DQMPreprocessing.normalized([0, 0]) == [0, 0])
        let first: [[Double]?] = [[6000, 6000], [5000, 4000], nil]
        let second: [[Double]?] = [[20000], [20000], [20000]]
        let stored: [[Double]?] = [[0.5, 0.5], [0.25, 0.75], [1, 0]]
        // Run 1 has 9000 entries in the first histogram, run 2 lacks it; the already
        // normalized histogram is not cut on.
        #expect(DQMPreprocessing.passesLowStatistics([first, second, stored], threshold: 10_000) == [true, false, false])
    }

    @Test func splitUsesOnlyGoodRunsAndIsSeeded() {
        let labels: [RunLabel] = (0..<50).map { $0 % 5 == 0 ? .bad : ($0 % 7 == 0 ? .unknown : .good) }
        let roles = SplitRole.split(labels: labels, seed: 3)
        #expect(roles == SplitRole.split(labels: labels, seed: 3))
        #expect(roles != SplitRole.split(labels: labels, seed: 4))
        for (role, label) in zip(roles, labels) {
            #expect((label == .good) == (role != .excluded))
        }
        let good = labels.filter { $0 == .good }.count
        #expect(roles.filter { $0 == .train }.count == Int((Double(good) * 0.5).rounded()))
        #expect(SplitRole.split(labels: [.good, .good], trainFraction: 1, seed: 1).sorted { $0.rawValue < $1.rawValue } == [.train, .heldOut])
    }

    @Test func greedyMinimumOccupancyRebinning() throws {
        // The spec's example: low bins 0, 1 and 7, 8 of ten. The intended greedy merge gives six
        // bins ({0,1,2}, 3, 4, 5, 6, {7,8,9}); upstream's code gives eight.
        let occupancy = [0.001, 0.001, 0.1, 0.1, 0.1, 0.1, 0.1, 0.001, 0.001, 0.1]
        let map = RebinMap.minimumOccupancy(meanOccupancy: occupancy, minimumOccupancy: 0.0033)
        #expect(map.groupStarts == [0, 3, 4, 5, 6, 7])
        #expect(try map.apply(Array(1...10).map(Double.init)) == [6, 4, 5, 6, 7, 27])
        // A low tail joins the last complete group; nothing populated enough gives one bin.
        #expect(RebinMap.minimumOccupancy(meanOccupancy: [0.1, 0.1, 0.001], minimumOccupancy: 0.0033).groupStarts == [0, 1])
        #expect(RebinMap.minimumOccupancy(meanOccupancy: [0.001, 0.001], minimumOccupancy: 0.0033).groupStarts == [0])
        #expect(RebinMap.meanOccupancy(normalizedRuns: [[0.5, 0.5], [1, 0]]) == [0.75, 0.25])
        #expect(throws: DQMError.self) { try map.apply([1, 2]) }
    }
}

@Suite struct PCATests {
    @Test func handComputedDecomposition() throws {
        // Centred columns are orthogonal with squared norms 2 and 8: singular values √8, √2,
        // explained variances 8/3, 2/3 (n − 1 = 3), ratios 0.8, 0.2, axes ŷ then x̂.
        let samples: [[Double]] = [[2, 1], [0, 1], [1, 3], [1, -1]]
        let model = try PCAModel.fit(samples: samples, componentCount: 1, name: "toy")
        #expect(model.mean == [1, 1])
        #expect(abs(model.singularValues[0] - 8.0.squareRoot()) < 1e-12)
        #expect(abs(model.explainedVariance[0] - 8.0 / 3.0) < 1e-12)
        #expect(abs(model.explainedVarianceRatio[0] - 0.8) < 1e-12)
        #expect(abs(model.noiseVariance - 2.0 / 3.0) < 1e-12)
        #expect(abs(model.components[0][0]) < 1e-12 && abs(model.components[0][1] - 1) < 1e-12)
        let (score, reconstruction) = try model.score([2, 1])
        #expect(abs(reconstruction[0] - 1) < 1e-12 && abs(reconstruction[1] - 1) < 1e-12)
        #expect(abs(score - 1) < 1e-12)
    }

    @Test func reconstructsExactlyRankTwoData() throws {
        // Rows mean + a·u + b·v: two components reproduce every row; one leaves b·v behind.
        let mean: [Double] = [0.1, 0.3, 0.2, 0.25, 0.15]
        let u: [Double] = [1, -1, 0, 0.5, -0.5]
        let v: [Double] = [0, 0.2, -0.2, 0.1, -0.1]
        let coefficients: [(Double, Double)] = [(0.01, 0.02), (-0.02, 0.01), (0.005, -0.03), (0.0, 0.0), (0.015, 0.025), (-0.01, -0.01)]
        let samples = coefficients.map { a, b in (0..<5).map { mean[$0] + a * u[$0] + b * v[$0] } }
        let model = try PCAModel.fit(samples: samples, componentCount: 2, name: "rank2")
        for sample in samples {
            let (score, _) = try model.score(sample)
            #expect(score < 1e-24)
        }
        let one = try PCAModel.fit(samples: samples, componentCount: 1, name: "rank1")
        #expect(try samples.map { try one.score($0).score }.reduce(0, +) > 1e-6)
        #expect(throws: DQMError.self) { try PCAModel.fit(samples: samples, componentCount: 6, name: "x") }
        #expect(throws: DQMError.self) { try model.transform([1, 2]) }
    }

    @Test func jsonRoundTripUsesScikitLearnNames() throws {
        let model = try PCAModel.fit(samples: [[1, 2, 3], [2, 2, 1], [0, 1, 1]], name: "pca_hist_tag")
        let text = String(decoding: try model.jsonData(), as: UTF8.self)
        for key in ["components_", "mean_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "n_components_", "n_features_in_", "n_samples_", "noise_variance_"] {
            #expect(text.contains("\"\(key)\""))
        }
        #expect(try PCAModel(json: model.jsonData(), file: "m.json") == model)
        let broken = text.replacingOccurrences(of: "\"n_features_in_\" : 3", with: "\"n_features_in_\" : 4")
        #expect(throws: (any Error).self) { try PCAModel(json: Data(broken.utf8), file: "m.json") }
    }

    @Test(.requiresPython) func scikitLearnLoadsTheModelAndReproducesReconstruction() throws {
        let python = try TestEnvironment.python()
        var generator = SeededGenerator(seed: 11)
        let samples: [[Double]] = (0..<30).map { _ in (0..<12).map { _ in generator.nextUniform() } }
        let model = try PCAModel.fit(samples: samples, componentCount: 3, name: "pca_interop_test")
        let directory = try TestEnvironment.temporaryDirectory("dqm-pca")
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelPath = directory.appendingPathComponent("model.json").path
        try model.jsonData().write(to: URL(fileURLWithPath: modelPath))
        let reconstructions = try samples.map { try model.reconstruct($0) }
        let payload = try JSONSerialization.data(withJSONObject: ["samples": samples, "reco": reconstructions])
        let dataPath = directory.appendingPathComponent("data.json").path
        try payload.write(to: URL(fileURLWithPath: dataPath))
        let script = """
        import json, sys, numpy as np
        from sklearn.decomposition import PCA
        attributes = json.load(open(sys.argv[1])); data = json.load(open(sys.argv[2]))
        pca = PCA(random_state=0)
        for key, value in attributes.items():
            if key.endswith("_"):
                setattr(pca, key, np.array(value) if isinstance(value, list) else value)
        x = np.array(data["samples"])
        reco = pca.inverse_transform(pca.transform(x))
        assert np.allclose(reco, np.array(data["reco"]), rtol=0, atol=1e-12), np.abs(reco - np.array(data["reco"])).max()
        fitted = PCA(n_components=3, random_state=0).fit(x)
        assert np.allclose(fitted.explained_variance_, pca.explained_variance_, rtol=1e-10)
        assert np.allclose(fitted.noise_variance_, pca.noise_variance_, rtol=1e-10)
        assert np.allclose(np.abs(fitted.components_), np.abs(pca.components_), atol=1e-10)
        print("ok")
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [modelPath, dataPath])
        #expect(result.status == 0, "\(result.output)")
    }
}
