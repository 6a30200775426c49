import Foundation
import HEPMLTestSupport
import Testing

/// `hepml compress` end to end through the command line, on HZZ's jets (Px, Py, Pz, E; jagged,
/// counter NJet) from ../shared: train, compress with bounds, info, decompress, evaluate.
@Suite struct CompressCommandTests {
    @Test(.requiresShared) func trainCompressDecompressEvaluate() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let input = try TestEnvironment.rootTestFile("uproot-HZZ.root").path
        let directory = try TestEnvironment.temporaryDirectory("compress-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let source = ["-i", input, "--tree", "events", "--branches", "Jet_Px,Jet_Py,Jet_Pz,Jet_E"]
        let train = try TestEnvironment.run(hepml, ["compress", "train"] + source
            + ["--model", "AE_bn_LeakyReLU:4,16,3,16,4", "--epochs", "3", "--batch-size", "256", "-o", path("model")])
        #expect(train.status == 0, "\(train.output)")
        let compress = try TestEnvironment.run(hepml, ["compress", "compress"] + source
            + ["--model", path("model"), "-o", path("jets.parquet"), "--max-error", "Jet_E=1e-3,Jet_Px=abs:0.01", "--latent", "bfloat16"])
        #expect(compress.status == 0, "\(compress.output)")
        #expect(compress.output.contains("Jet_E:") && compress.output.contains("exact corrections"), "\(compress.output)")
        let info = try TestEnvironment.run(hepml, ["compress", "info", path("jets.parquet")])
        #expect(info.status == 0 && info.output.contains("decoder ONNX") && info.output.contains("ratio"), "\(info.output)")
        let decompress = try TestEnvironment.run(hepml, ["compress", "decompress", path("jets.parquet"), "-o", path("jets.root"), "--compression", "lz4"])
        #expect(decompress.status == 0, "\(decompress.output)")
        let show = try TestEnvironment.run(hepml, ["root", "show", path("jets.root") + ":events"])
        #expect(show.output.contains("NJet") && show.output.contains("Jet_Px") && show.output.contains("var * float32"), "\(show.output)")
        let evaluate = try TestEnvironment.run(hepml, ["compress", "evaluate", path("jets.parquet"), "--report", path("report"), "--model", path("model")])
        #expect(evaluate.status == 0 && evaluate.output.contains("zstd lossless"), "\(evaluate.output)")
        #expect(evaluate.output.contains("decoding") && evaluate.output.contains("encoding") && evaluate.output.contains("ns/object"), "\(evaluate.output)")
        #expect(FileManager.default.fileExists(atPath: path("report/index.html")))

        let missing = try TestEnvironment.run(hepml, ["compress", "compress", "-i", input, "--tree", "events", "--branches", "Jet_Px,Jet_Py,Jet_Pz,Muon_E",
                                                      "--model", path("model"), "-o", path("bad.parquet")])
        #expect(missing.status != 0 && missing.output.contains("Muon_E"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: path("bad.parquet")))
    }

    @Test func codecBenchmarkTimesEveryStageWithItsMemory() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("compress-codec-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TestEnvironment.run(hepml, ["bench", "compress-codec", "--events", "2000", "--repeats", "2", "--directory", directory.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("112 multiply-adds per object to encode, 112 to decode"), "\(run.output)")
        let stages = ["compress, without reading", "compress, whole command", "decompress to Parquet, decoding", "decompress to Parquet, whole command",
                      "decompress to ROOT, decoding", "decompress to ROOT (zlib:1), whole command"]
        for stage in stages {
            let line = run.output.split(separator: "\n").first { $0.hasPrefix(stage) }.map(String.init) ?? ""
            let numbers = line.dropFirst(stage.count).split(whereSeparator: { " ()–".contains($0) }).compactMap { Double($0) }
            // objects/s (median, min, max), and for whole commands wall s, CPU s, peak RSS MiB.
            #expect(numbers.count == (stage.hasSuffix("whole command") ? 6 : 3) && numbers.allSatisfy { $0 > 0 }, "\(stage): \(line)")
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("decompressed.root").path))
    }
}
