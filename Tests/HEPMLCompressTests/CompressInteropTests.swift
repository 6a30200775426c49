import Foundation
import HEPMLColumnar
@testable import HEPMLCompress
import HEPMLCore
import HEPMLTestSupport
import Testing

/// Outside readers of HEPML's files: the Python recipe of docs/compress.md (numpy, pyarrow, ONNX
/// Runtime) decodes a compressed file, and C++ ROOT reads a decompressed ROOT file.
@Suite(.serialized) struct CompressInteropTests {
    /// The ```python block after `<!-- decode-recipe -->` in docs/compress.md.
    static func recipe() throws -> String {
        let text = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("docs/compress.md"), encoding: .utf8)
        let afterMarker = try #require(text.range(of: "<!-- decode-recipe -->")).upperBound
        let start = try #require(text.range(of: "```python\n", range: afterMarker..<text.endIndex)).upperBound
        let end = try #require(text.range(of: "```", range: start..<text.endIndex)).lowerBound
        return String(text[start..<end])
    }

    @Test(.requiresPython, arguments: ["float32", "bits:12"])
    func pythonRecipeDecodesTheCompressedFile(encoding: String) throws {
        let fixture = try CompressFixture.shared.get()
        var options = CompressionOptions()
        options.encoding = try LatentEncoding(parsing: encoding)
        options.bounds = [try ErrorBound(parsing: "Jet_pt=1e-2"), try ErrorBound(parsing: "Jet_phi=abs:1e-2")]
        let (result, path) = try fixture.compress("python-\(encoding).parquet", options: options)
        let original = fixture.path("original-\(encoding).parquet"), decoded = fixture.path("hepml-\(encoding).parquet")
        try TableFile.write(try fixture.source.read().data.table(), to: original)
        try TableFile.write(try #require(result.decoded).table(), to: decoded)
        let check = """
        import sys
        import numpy as np
        import pyarrow.parquet as pq
        header, values, offsets = decode(sys.argv[1])
        original, hepml = pq.read_table(sys.argv[2]), pq.read_table(sys.argv[3])
        assert np.array_equal(offsets, np.asarray(original.column("Jet_pt").combine_chunks().offsets)), "event structure"
        for name, bound in (("Jet_pt", ("rel", 1e-2)), ("Jet_phi", ("abs", 1e-2)), ("Jet_eta", None), ("Jet_mass", None)):
            x = np.asarray(original.column(name).combine_chunks().flatten(), dtype=np.float64)
            ours = np.asarray(hepml.column(name).combine_chunks().flatten(), dtype=np.float64)
            y = values[name].astype(np.float64)
            assert values[name].dtype == np.float32, name
            if bound:
                allowed = bound[1] * np.abs(x) if bound[0] == "rel" else bound[1]
                assert np.all(np.abs(y - x) <= allowed), (name, np.max(np.abs(y - x) - allowed))
            scale = np.maximum(np.abs(ours), 1.0)
            assert np.max(np.abs(y - ours) / scale) < 1e-4, (name, np.max(np.abs(y - ours) / scale))
        print("decoded", len(values["Jet_pt"]), "objects")
        """
        let output = try TestEnvironment.runPython(try TestEnvironment.python(), script: try Self.recipe() + "\n" + check,
                                                   arguments: [path, original, decoded])
        #expect(output.status == 0, "\(output.output)")
        #expect(output.output.contains("decoded \(result.header.objects) objects"))
    }

    @Test(.requiresCppROOT) func cppROOTReadsTheDecompressedFile() throws {
        let fixture = try CompressFixture.shared.get()
        let (result, path) = try fixture.compress("cpp.parquet", options: CompressionOptions())
        let rootPath = fixture.path("cpp-decoded.root"), report = fixture.path("cpp-report.json")
        let decoded = try CompressedEventFile(path: path).decompress()
        try decoded.writeROOT(to: rootPath, tree: result.header.tree)
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/cpp-root/read_files.py").path
        let run = try TestEnvironment.run(try TestEnvironment.cppROOTPython(), [script, report, rootPath], environment: ["PYTHONWARNINGS": "ignore"])
        try #require(run.status == 0, "\(run.output)")
        #expect(!run.output.contains("Error in <") && !run.output.contains("Warning in <"), "ROOT complained: \(run.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let file = try #require(json[rootPath] as? [String: Any])
        #expect(file["recovered"] as? Bool == false)
        let tree = try #require((file["trees"] as? [String: Any])?["Events"] as? [String: Any])
        #expect(tree["entries"] as? Int == decoded.eventCount)
        let leaves = try #require(tree["leaves"] as? [String: [[String]]])
        let counts = try #require(leaves["nJet"]).map { Int(Double($0.first ?? "") ?? -1) }
        #expect(counts == decoded.counts)
        for variable in decoded.variables {
            let rootValues = try #require(leaves[variable.name]).flatMap { $0.map { Double($0) ?? .nan } }
            #expect(rootValues == variable.values, "\(variable.name)")
        }
    }
}
