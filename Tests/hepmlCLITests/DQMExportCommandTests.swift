import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

/// `hepml dqm export` writes the autoencoders `hepml dqm train` left in run directories as ONNX
/// models that ONNX Runtime runs to the reconstructions the train command stored.
@Suite struct DQMExportCommandTests {
    /// Generates, fetches and trains a simultaneous autoencoder over a 1-D and a 2-D histogram
    /// (two inputs, two outputs) in `directory`, then exports it; returns the trained Parquet
    /// file, the histogram columns and the .onnx path.
    static func trainAndExport(in directory: URL, hepml: String) throws -> (parquet: String, histograms: [String], model: String) {
        let data = directory.appendingPathComponent("data").path, fetched = directory.appendingPathComponent("fetched").path
        let trained = directory.appendingPathComponent("trained").path, exported = directory.appendingPathComponent("onnx").path
        let generate = try TestEnvironment.run(hepml, ["dqm", "generate", "--output-dir", data, "--runs", "24", "--seed", "4", "--quiet"])
        try #require(generate.status == 0, "\(generate.output)")
        let fetch = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", data + "/datasets.json",
                                                    "--input", data, "--output-dir", fetched, "--quiet"])
        try #require(fetch.status == 0, "\(fetch.output)")
        let parquet = fetched + "/ZeroBias.parquet"
        let columns = try Parquet.read(path: parquet).columnNames
        let histograms = try ["TrackAlgoQuality", "hOStripsAndWiresAndCLCT"].map { suffix in try #require(columns.first { $0.hasSuffix(suffix) }) }
        let train = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "ae", "--input-file", parquet, "--output-dir", trained, "--tag", "ae",
                                                    "--histograms", histograms.joined(separator: ","), "--autoencoder-mode", "simultaneous",
                                                    "--epochs", "3", "--quiet"])
        try #require(train.status == 0, "\(train.output)")
        let export = try TestEnvironment.run(hepml, ["dqm", "export", "--model-dir", trained, "--output-dir", exported])
        try #require(export.status == 0, "\(export.output)")
        return (trained + "/ZeroBias.parquet", histograms, exported + "/autoencoder_ae.onnx")
    }

    @Test func exportWritesOneModelPerRunAndRefusesOtherDirectories() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("dqm-export-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (parquet, _, model) = try Self.trainAndExport(in: directory, hepml: hepml)
        #expect(FileManager.default.fileExists(atPath: model))
        // Beside the run by default.
        let run = directory.appendingPathComponent("trained/autoencoder_ae").path
        let inside = try TestEnvironment.run(hepml, ["dqm", "export", "--run", run])
        #expect(inside.status == 0 && FileManager.default.fileExists(atPath: run + "/autoencoder_ae.onnx"), "\(inside.output)")
        let refused = try TestEnvironment.run(hepml, ["dqm", "export", "--run", parquet])
        #expect(refused.status != 0 && refused.output.contains(parquet), "\(refused.output)")
    }

    @Test(.requiresPython)
    func exportedSimultaneousAutoencoderReproducesTheStoredReconstructions() throws {
        let python = try TestEnvironment.python()
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("dqm-export-ort")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (parquet, histograms, model) = try Self.trainAndExport(in: directory, hepml: hepml)
        let script = """
        import json, sys, numpy as np, pyarrow.parquet as pq, onnx, onnxruntime as ort
        table, model, histograms = pq.read_table(sys.argv[1]), sys.argv[2], sys.argv[4:]
        scales = dict(zip(histograms, json.load(open(sys.argv[3]))["inputScales"]))
        onnx.checker.check_model(onnx.load(model), full_check=True)
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in session.get_inputs()}
        assert [i.name for i in session.get_inputs()] == histograms, list(inputs)
        assert [o.name for o in session.get_outputs()] == [h + "_reco" for h in histograms]
        def rows(column):
            return np.array([np.asarray(value, dtype=np.float64).ravel() for value in table.column(column).to_pylist()])
        feeds = {}
        for hist in histograms:
            raw = rows(hist)
            x = raw * (1 / raw.sum(axis=1, keepdims=True)) * scales[hist]  # normalized to unit sum, times the input scale
            feeds[hist] = x.astype(np.float32).reshape([len(raw)] + list(inputs[hist].shape[1:]))
        outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
        for hist in histograms:
            stored = rows(hist + "_reco_ae")
            reco = outputs[hist + "_reco"] / scales[hist]
            assert reco.shape == feeds[hist].shape, (hist, reco.shape)
            difference = np.abs(reco.reshape(len(stored), -1) - stored).max()
            assert difference <= 1e-5, (hist, difference)
        print("ok")
        """
        let settings = (parquet as NSString).deletingLastPathComponent + "/autoencoder_ae/settings.json"
        let run = try TestEnvironment.runPython(python, script: script, arguments: [parquet, model, settings] + histograms)
        #expect(run.status == 0, "\(run.output)")
    }
}
