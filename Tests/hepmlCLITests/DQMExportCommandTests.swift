import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

/// `hepml dqm export` writes the autoencoders `hepml dqm train` left in run directories as ONNX models that ONNX
/// Runtime runs to the reconstructions the train command stored.
@Suite struct DQMExportCommandTests {
    @Test func exportedSimultaneousAutoencoderReproducesTheStoredReconstructions() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("dqm-export-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path, fetched = directory.appendingPathComponent("fetched").path
        let trained = directory.appendingPathComponent("trained").path, exported = directory.appendingPathComponent("onnx").path
        let generate = try TestEnvironment.run(hepml, ["dqm", "generate", "--output-dir", data, "--runs", "24", "--seed", "4", "--quiet"])
        #expect(generate.status == 0, "\(generate.output)")
        let fetch = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", data + "/datasets.json",
                                                    "--input", data, "--output-dir", fetched, "--quiet"])
        #expect(fetch.status == 0, "\(fetch.output)")
        let parquet = fetched + "/ZeroBias.parquet"
        // A 1-D and a 2-D histogram in one network: two inputs, two outputs.
        let columns = try Parquet.read(path: parquet).columnNames
        let histograms = try ["TrackAlgoQuality", "hOStripsAndWiresAndCLCT"].map { suffix in try #require(columns.first { $0.hasSuffix(suffix) }) }
        let train = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "ae", "--input-file", parquet, "--output-dir", trained, "--tag", "ae",
                                                    "--histograms", histograms.joined(separator: ","), "--autoencoder-mode", "simultaneous",
                                                    "--epochs", "3", "--quiet"])
        #expect(train.status == 0, "\(train.output)")

        let export = try TestEnvironment.run(hepml, ["dqm", "export", "--model-dir", trained, "--output-dir", exported])
        #expect(export.status == 0, "\(export.output)")
        let model = exported + "/autoencoder_ae.onnx"
        #expect(FileManager.default.fileExists(atPath: model), "\(export.output)")
        let refused = try TestEnvironment.run(hepml, ["dqm", "export", "--run", parquet, "--output-dir", exported])
        #expect(refused.status != 0 && refused.output.contains(parquet), "\(refused.output)")

        guard let python = TestEnvironment.python(for: "DQM autoencoder ONNX Runtime interop") else { return }
        let script = """
        import sys, numpy as np, pyarrow.parquet as pq, onnx, onnxruntime as ort
        table, model, histograms = pq.read_table(sys.argv[1]), sys.argv[2], sys.argv[3:]
        onnx.checker.check_model(onnx.load(model), full_check=True)
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in session.get_inputs()}
        assert sorted(inputs) == sorted(histograms), sorted(inputs)
        def rows(column):
            return np.array([np.asarray(value, dtype=np.float64).ravel() for value in table.column(column).to_pylist()])
        feeds = {}
        for hist in histograms:
            raw = rows(hist)
            x = raw * (1 / raw.sum(axis=1, keepdims=True))  # the training inputs: normalized to unit sum
            feeds[hist] = x.astype(np.float32).reshape([len(raw)] + list(inputs[hist].shape[1:]))
        outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
        for hist in histograms:
            stored = rows(hist + "_reco_ae")
            reco = outputs[hist + "_reco"]
            assert reco.shape == feeds[hist].shape, (hist, reco.shape)
            difference = np.abs(reco.reshape(len(stored), -1) - stored).max()
            assert difference <= 1e-5, (hist, difference)
        print("ok")
        """
        let run = try TestEnvironment.runPython(python, script: script, arguments: [trained + "/ZeroBias.parquet", model] + histograms)
        #expect(run.status == 0, "\(run.output)")
    }
}
