import Foundation
import Testing
import HEPMLExperiment
import HEPMLTestSupport
@testable import HEPMLECONT

/// Train → evaluate → export → ONNX Runtime on a small slice of the shared ttbar sample.
@Suite("ECON-T end to end", .serialized)
struct EndToEndTests {
    /// The first `rows` data rows of the shared ttbar file, with its header, in `directory`.
    static func slice(rows: Int, into directory: URL) throws -> String {
        let text = try String(contentsOf: try TestEnvironment.sharedDirectory().appendingPathComponent("data/econt/ttbar_0PU.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(rows + 1)
        let path = directory.appendingPathComponent("ttbar_slice.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the exported encoder and decoder in ONNX Runtime; prints the latents and decoded images as JSON.
    static let runtimeScript = """
    import json, sys
    import numpy as np, onnx, onnxruntime as ort
    directory, values, rows = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    outputs = {}
    for part in ("encoder", "decoder"):
        onnx.checker.check_model(onnx.load(f"{directory}/{part}.onnx"), full_check=True)
    enc = ort.InferenceSession(f"{directory}/encoder.onnx", providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(f"{directory}/decoder.onnx", providers=["CPUExecutionProvider"])
    x = np.array(values, dtype=np.float32).reshape(rows, 8, 8, 1)
    latent = enc.run(None, {"image": x})[0]
    decoded = dec.run(None, {"latent": latent})[0]
    print(json.dumps({"latent": latent.astype(np.float64).ravel().tolist(), "decoded": decoded.astype(np.float64).ravel().tolist()}))
    """

    /// Study options for 1500 modules of the shared ttbar file in `directory`, 4 eLinks.
    static func options(quantize: Bool, epochs: Int, in directory: URL) throws -> StudyOptions {
        var options = StudyOptions(inputs: [try slice(rows: 1500, into: directory)], outputDirectory: directory.appendingPathComponent("out").path)
        options.epochs = epochs
        options.quantize = quantize
        options.links = 4
        options.quiet = true
        return options
    }

    @Test("Train, reload for evaluation, files and report (float and quantized)", .requiresShared, arguments: [false, true])
    func pipeline(quantize: Bool) throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = try Self.options(quantize: quantize, epochs: 3, in: directory)
        options.csvRows = 5
        options.full = true
        var log: [String] = []
        let trained = try Study.run(options) { log.append($0) }
        let result = try #require(trained.first)
        #expect(result.history?.epochs.count == 3)
        #expect(result.evaluation.rows == 300)
        let emd = try #require(result.evaluation.autoencoder.summary(.emd))
        #expect(emd.count + emd.emptyOutputCount == 300 && emd.mean > 0 && emd.mean < 10)
        let files = ["weights.safetensors", "settings.json", "history.json", "history.csv", "model.json", "encoder.onnx", "decoder.onnx",
                     "verify_input_calQ.csv", "verify_output.csv", "verify_decoded_calQ.csv"]
        for file in files {
            #expect(FileManager.default.fileExists(atPath: (result.directory as NSString).appendingPathComponent(file)), "\(file)")
        }
        let verifyOutput = try String(contentsOfFile: (result.directory as NSString).appendingPathComponent("verify_output.csv"), encoding: .utf8)
        #expect(verifyOutput.split(separator: "\n").count == 5 && verifyOutput.split(separator: "\n")[0].split(separator: ",").count == 16)
        let summary = try String(contentsOfFile: (options.outputDirectory as NSString).appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(summary.contains("bc (9 cells)") && summary.contains("thr_lo") && summary.contains("SSD mean") && summary.contains(",2144,"))
        let report = try String(contentsOfFile: (options.outputDirectory as NSString).appendingPathComponent("report/index.html"), encoding: .utf8)
        #expect(report.contains("profile_occ_EMD_bc") && report.contains("ae_examples_") && report.contains("nearly lossless"))
        let spec = try RunDirectory(result.directory).spec()
        #expect(try spec.summary().parameters(in: ["encoder"]) == 2144 && spec.metadata["quantized"] == "\(quantize)")

        // `evaluate` reloads the weights and reproduces the metrics.
        var evaluate = options
        evaluate.mayTrain = false
        let reloaded = try #require(try Study.run(evaluate) { _ in }.first)
        #expect(reloaded.evaluation.autoencoder.values(.emd) == result.evaluation.autoencoder.values(.emd))
        #expect(reloaded.history?.epochs.count == 3)
    }

    @Test("ONNX Runtime runs the exported encoder and decoder like HEPML (float and quantized)", .requiresShared, .requiresPython,
          arguments: [false, true])
    func onnxRuntimeAgreement(quantize: Bool) throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("econt-onnx")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = try Self.options(quantize: quantize, epochs: 1, in: directory)
        options.skipPlots = true
        let result = try #require(try Study.run(options) { _ in }.first)
        let rows = 40
        let data = try StudyData(options: options)
        let images = Array(data.images(.eightByEight, rows: data.split.validation).prefix(rows * 64))
        let swift = try result.autoencoder.predict(images: images, rows: rows)
        let encoded = String(decoding: try JSONSerialization.data(withJSONObject: images.map(Double.init)), as: UTF8.self)
        let run = try TestEnvironment.runPython(python, script: Self.runtimeScript, arguments: [result.directory, encoded, "\(rows)"])
        try #require(run.status == 0, "python failed: \(run.output)")
        let lastLine = run.output.split(separator: "\n").last.map(String.init) ?? ""
        let runtime = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: [Double]])
        let latent = try #require(runtime["latent"]), decoded = try #require(runtime["decoded"])
        #expect(latent.count == rows * 16 && decoded.count == rows * 64)
        if quantize {
            #expect(latent == swift.latent.map(Double.init), "quantized latents must agree exactly")
        } else {
            #expect(zip(latent, swift.latent).allSatisfy { abs($0 - Double($1)) <= 1e-5 })
        }
        let decodedSwift = try result.autoencoder.decode(latent: latent.map(Float.init), rows: rows)
        #expect(zip(decoded, decodedSwift).allSatisfy { abs($0 - Double($1)) <= 1e-5 })
    }

    @Test("The hepml CLI: train, evaluate, export; --no-header keeps the first row; unknown networks are refused", .requiresShared,
          .enabled(if: TestEnvironment.hepmlExecutable != nil, "the hepml executable is not built next to the tests"))
    func commandLine() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("econt-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.slice(rows: 600, into: directory)
        let output = directory.appendingPathComponent("out").path
        let train = try TestEnvironment.run(hepml, ["econt", "train", "-i", input, "-o", output, "--epochs", "2", "--quiet", "--skip-plot", "--n-csv", "3"])
        #expect(train.status == 0, "\(train.output)")
        #expect(train.output.contains("600 modules: 480 training, 120 validation"))
        let evaluate = try TestEnvironment.run(hepml, ["econt", "evaluate", "-i", input, "-o", output, "--quiet"])
        #expect(evaluate.status == 0 && evaluate.output.contains("loaded"), "\(evaluate.output)")
        #expect(FileManager.default.fileExists(atPath: output + "/report/index.html"))
        try FileManager.default.removeItem(atPath: output + "/8x8_c8_S2_tele/encoder.onnx")
        let export = try TestEnvironment.run(hepml, ["econt", "export", "-o", output])
        #expect(export.status == 0 && FileManager.default.fileExists(atPath: output + "/8x8_c8_S2_tele/encoder.onnx"), "\(export.output)")

        // Without a header every line is data: the header line itself is then not a number.
        let headerless = directory.appendingPathComponent("headerless.csv").path
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").dropFirst()
        try (lines.joined(separator: "\n") + "\n").write(toFile: headerless, atomically: true, encoding: .utf8)
        let noHeader = try TestEnvironment.run(hepml, ["econt", "train", "-i", headerless, "-o", directory.appendingPathComponent("nh").path,
                                                       "--no-header", "--epochs", "1", "--quiet", "--skip-plot"])
        #expect(noHeader.status == 0 && noHeader.output.contains("600 modules"), "\(noHeader.output)")
        let unknown = try TestEnvironment.run(hepml, ["econt", "train", "-i", input, "-o", output, "--models", "nope"])
        #expect(unknown.status != 0 && unknown.output.contains("unknown network nope"))

        // The EMD-CNN: without a critic the emd network is refused; train one, then the network trains with it.
        let missing = try TestEnvironment.run(hepml, ["econt", "train", "-i", input, "-o", output, "--models", "8x8_c8_S2_emdCNN", "--epochs", "1", "--quiet"])
        #expect(missing.status != 0 && missing.output.contains("train-emd-loss"), "\(missing.output)")
        let critic = try TestEnvironment.run(hepml, ["econt", "train-emd-loss", "-i", input, "-o", output, "--nrows-per-file", "15", "--epochs", "1", "--quiet"])
        #expect(critic.status == 0 && critic.output.contains("81 training and 36 validation pairs"), "\(critic.output)")
        #expect(FileManager.default.fileExists(atPath: output + "/emd-cnn/ae_mse.safetensors") && FileManager.default.fileExists(atPath: output + "/emd-cnn/ae_mse.json"))
        let emdNetwork = try TestEnvironment.run(hepml, ["econt", "train", "-i", input, "-o", output, "--models", "8x8_c8_S2_emdCNN",
                                                         "--epochs", "1", "--quiet", "--skip-plot", "--max-val", "40"])
        #expect(emdNetwork.status == 0 && FileManager.default.fileExists(atPath: output + "/8x8_c8_S2_emdCNN/weights.safetensors"), "\(emdNetwork.output)")
        let override = try TestEnvironment.run(hepml, ["econt", "train", "-i", input, "-o", output, "--loss", "emdCNN:ae_mse",
                                                       "--epochs", "1", "--quiet", "--skip-plot", "--max-val", "40"])
        #expect(override.status == 0 && FileManager.default.fileExists(atPath: output + "/8x8_c8_S2_tele-loss-emdCNN:ae_mse/model.json"), "\(override.output)")

        // Help names every subcommand and the options that are easy to miss.
        let help = try TestEnvironment.run(hepml, ["econt", "--help"])
        #expect(["train", "evaluate", "export", "train-emd-loss", "8x8_c8_S2_qK_RTL_emd_ttbar"].allSatisfy { help.output.contains($0) }, "\(help.output)")
        let trainHelp = try TestEnvironment.run(hepml, ["econt", "train", "--help"])
        #expect(["--loss", "--emd-cnn-dir", "--no-header", "--random-split", "--rescale-output-to-max", "--patience", "resumes"].allSatisfy { trainHelp.output.contains($0) }, "\(trainHelp.output)")
    }
}
