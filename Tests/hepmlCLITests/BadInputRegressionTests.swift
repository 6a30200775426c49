@testable import HEPMLColumnar
import Foundation
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// The failures of issue 20, each as the user met it (docs/reliability.md).
@Suite struct BadInputRegressionTests {
    /// `root show` drew 2-D cells through an integer conversion that trapped on negative, NaN
    /// and infinite contents, and on `--width 0`.
    @Test func rootShowDrawsNegativeNaNAndInfiniteCellsAndBoundsTheWidth() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cells.root").path
        let writer = ROOTWriter(path: path)
        let x = Axis(binCount: 3, minimum: 0, maximum: 3), y = Axis(name: "yaxis", binCount: 2, minimum: 0, maximum: 2)
        // Flow bins included: (3 + 2) × (2 + 2) cells, x fastest as ROOT stores them.
        var cells = [Double](repeating: 0, count: 20)
        cells[1 + 5 * 1] = -5
        cells[2 + 5 * 1] = .nan
        cells[3 + 5 * 2] = .infinity
        cells[1 + 5 * 2] = 3
        try writer.write(Histogram(className: "TH2D", name: "mixed", xAxis: x, yAxis: y, contents: cells, entries: 4), to: "mixed")
        try writer.write(Histogram(className: "TH2D", name: "negative", xAxis: x, yAxis: y, contents: cells.map { $0.isFinite ? -abs($0) - 1 : -1 }, entries: 4), to: "negative")
        try writer.write(Histogram(className: "TH1D", name: "flat", xAxis: x, contents: [0, .nan, -.infinity, 1e308, 0], entries: 3), to: "flat")
        try writer.close()

        let mixed = try TestEnvironment.run(hepml, ["root", "show", path + ":mixed"])
        #expect(mixed.status == 0, "\(mixed.output)")
        #expect(mixed.output.contains("?") && mixed.output.contains(">") && mixed.output.contains("negative"))
        let negative = try TestEnvironment.run(hepml, ["root", "show", path + ":negative", "--width", "1"])
        #expect(negative.status == 0, "\(negative.output)")
        let flat = try TestEnvironment.run(hepml, ["root", "show", path + ":flat"])
        #expect(flat.status == 0 && flat.output.contains("nan") && flat.output.contains("-inf"), "\(flat.output)")
        for width in ["0", "-3", "100000000"] {
            let refused = try TestEnvironment.run(hepml, ["root", "show", path + ":mixed", "--width", width])
            #expect(refused.status != 0 && refused.output.contains("--width"), "\(refused.output)")
        }
    }

    /// A .npz member whose directory entry declares far more than its .npy header describes is
    /// refused before it is inflated (the 2.9 MB archive that declared 3 GB).
    @Test func npzMemberDeclaringMoreThanItsHeaderIsRefusedBeforeInflating() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let array = try NDArray(dtype: .float64, shape: [4096], bytes: [UInt8](repeating: 0, count: 4096 * 8))
        let path = directory.appendingPathComponent("bomb.npz").path
        try NPZ.write([("zeros", array)], to: path, compressed: true)
        var archive = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The uncompressed size sits 24 bytes into the central directory entry (signature PK\1\2).
        let signature: [UInt8] = [0x50, 0x4B, 1, 2]
        let entry = try #require((0..<archive.count - 4).first { Array(archive[$0..<$0 + 4]) == signature })
        // More than the header's 32896 bytes, less than deflate's 1032:1 bound of the member.
        let declared = UInt32(40_000)
        for byte in 0..<4 { archive[entry + 24 + byte] = UInt8(truncatingIfNeeded: declared >> (8 * UInt32(byte))) }
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let shown = try TestEnvironment.run(hepml, ["table", "show", path])
        #expect(shown.status != 0)
        #expect(shown.output.contains("bomb.npz") && shown.output.contains("declares \(declared) bytes"), "\(shown.output)")

    }

    /// Names taken from the data set configuration stay inside --output-dir; an empty selection
    /// says so; a skipped file is named once.
    @Test func dqmFetchKeepsOutputsInsideTheOutputDirectory() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("deep/er/data").path
        let output = directory.appendingPathComponent("deep/er/out").path
        #expect(try TestEnvironment.run(hepml, ["dqm", "generate", "--runs", "4", "--output-dir", data, "--quiet"]).status == 0)
        let datasetsPath = data + "/datasets.json"
        var datasets = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: datasetsPath))) as? [String: Any])
        let hostile = ["../../escaped", "/tmp/absolute-\(UUID().uuidString)", "a/b", "nul\u{0}byte", "..", String(repeating: "long", count: 100)]
        datasets["primary_datasets"] = hostile
        try JSONSerialization.data(withJSONObject: datasets).write(to: URL(fileURLWithPath: datasetsPath))
        let rootFiles = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.hasSuffix(".root") }.sorted()
        let damaged = data + "/" + rootFiles[0]
        try Data("not a ROOT file".utf8).write(to: URL(fileURLWithPath: damaged))
        let before = Set(try FileManager.default.subpathsOfDirectory(atPath: directory.path))
        let fetched = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", datasetsPath,
                                                      "--input", data, "--output-dir", output, "--quiet"])
        #expect(fetched.status == 0, "\(fetched.output)")
        let after = Set(try FileManager.default.subpathsOfDirectory(atPath: directory.path))
        #expect(after.subtracting(before).allSatisfy { $0.hasPrefix("deep/er/out") }, "\(after.subtracting(before))")
        #expect(!FileManager.default.fileExists(atPath: hostile[1] + ".parquet"))
        let written = try FileManager.default.contentsOfDirectory(atPath: output)
        #expect(written.count == hostile.count, "\(written)")
        #expect(written.allSatisfy { !$0.hasPrefix(".") && $0.utf8.count < 255 && !$0.contains("\u{0}") })
        #expect(fetched.output.contains("no run read"))

        // The real data set: the damaged file is skipped and named once.
        datasets["primary_datasets"] = ["ZeroBias"]
        try JSONSerialization.data(withJSONObject: datasets).write(to: URL(fileURLWithPath: datasetsPath))
        let real = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", datasetsPath, "--input", data, "--output-dir", output, "--quiet"])
        #expect(real.status == 0, "\(real.output)")
        #expect(real.output.components(separatedBy: rootFiles[0]).count == 2, "\(real.output)")

        datasets["primary_datasets"] = [String]()
        try JSONSerialization.data(withJSONObject: datasets).write(to: URL(fileURLWithPath: datasetsPath))
        let empty = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", datasetsPath, "--input", data, "--output-dir", output])
        #expect(empty.status != 0 && empty.output.contains("datasets.json") && empty.output.contains("primary_datasets"), "\(empty.output)")
    }

    /// Training in the fetch's directory keeps every fetched run: runs below the low-statistics
    /// cut stay with train_label -2 and no score.
    @Test func dqmTrainNeverReplacesTheFetchedTableWithAFilteredCopy() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path, output = directory.appendingPathComponent("out").path
        #expect(try TestEnvironment.run(hepml, ["dqm", "generate", "--runs", "12", "--output-dir", data, "--quiet"]).status == 0)
        let fetch = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", data + "/contents.json", "--datasets", data + "/datasets.json",
                                                    "--input", data, "--output-dir", output, "--quiet"])
        try #require(fetch.status == 0, "\(fetch.output)")
        let fetchedPath = output + "/ZeroBias.parquet"
        let fetched = try TableFile.read(path: fetchedPath)
        // A threshold between the runs' entry counts (their smallest histogram sum): some runs
        // fall below it, some pass.
        let histograms = fetched.columns.filter { $0.type.listDepth > 0 }
        let counts = (0..<fetched.rowCount).map { row in histograms.map { Self.sum(of: $0, row: row) }.min() ?? 0 }.sorted()
        let threshold = (counts[counts.count / 3] + counts[counts.count / 3 + 1]) / 2
        let train = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "pca", "--input-file", fetchedPath, "--output-dir", output,
                                                    "--low-stat-threshold", String(threshold), "--quiet"])
        try #require(train.status == 0, "\(train.output)")
        let trained = try TableFile.read(path: fetchedPath)
        #expect(trained.rowCount == fetched.rowCount)
        let roles = try #require(try trained.column("train_label").int64Values)
        #expect(roles.contains(-2) && roles.contains(0))
        let score = try #require(trained.columns.first { $0.name.contains("_score_") })
        #expect(score.nullCount == roles.filter { $0 == -2 }.count)

        // A tag is part of model file names: one climbing out of the output directory stays in it.
        let before = Set(try FileManager.default.subpathsOfDirectory(atPath: directory.path))
        let hostileTag = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "pca", "--input-file", fetchedPath, "--output-dir", output,
                                                         "--tag", "../../escaped", "--low-stat-threshold", "0", "--quiet"])
        #expect(hostileTag.status == 0, "\(hostileTag.output)")
        let added = Set(try FileManager.default.subpathsOfDirectory(atPath: directory.path)).subtracting(before)
        #expect(!added.isEmpty && added.allSatisfy { $0.hasPrefix("out/") && !$0.dropFirst(4).contains("/") }, "\(added)")

        let impossible = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "pca", "--input-file", fetchedPath, "--output-dir", output,
                                                         "--low-stat-threshold", "1e30", "--quiet"])
        #expect(impossible.status != 0 && impossible.output.contains("ZeroBias.parquet") && impossible.output.contains("low-stat"), "\(impossible.output)")
    }

    /// `econt train -i DIR` reads the folder's .csv files only and says what an empty folder holds;
    /// a CSV written by a spreadsheet (byte-order mark) reads; a folder as output is named.
    @Test func inputFoldersByteOrderMarksAndFolderOutputs() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("emptydir").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try TestEnvironment.run(hepml, ["econt", "train", "-i", empty, "-o", directory.appendingPathComponent("o").path, "--quiet"])
        #expect(none.status != 0 && none.output.contains("emptydir") && none.output.contains("empty"), "\(none.output)")
        try "notes".write(toFile: empty + "/readme.txt", atomically: true, encoding: .utf8)
        let notes = try TestEnvironment.run(hepml, ["econt", "train", "-i", empty, "-o", directory.appendingPathComponent("o").path, "--quiet"])
        #expect(notes.status != 0 && notes.output.contains("readme.txt") && notes.output.contains("no .csv"), "\(notes.output)")

        let csv = directory.appendingPathComponent("bom.csv").path
        try Data([0xEF, 0xBB, 0xBF] + Array("CALQ_0,CALQ_1\n1,2\n".utf8)).write(to: URL(fileURLWithPath: csv))
        let shown = try TestEnvironment.run(hepml, ["table", "show", csv])
        #expect(shown.status == 0 && shown.output.contains("CALQ_0"), "\(shown.output)")
        #expect(try TableFile.read(path: csv).columnNames == ["CALQ_0", "CALQ_1"])

        let duplicate = directory.appendingPathComponent("dup.csv").path
        try "a,a\n1,2\n".write(toFile: duplicate, atomically: true, encoding: .utf8)
        let duplicated = try TestEnvironment.run(hepml, ["table", "show", duplicate])
        #expect(duplicated.status != 0 && duplicated.output.contains("dup.csv"), "\(duplicated.output)")

        let folder = directory.appendingPathComponent("dir.csv").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let converted = try TestEnvironment.run(hepml, ["table", "convert", csv, folder])
        #expect(converted.status != 0 && converted.output.contains("dir.csv") && converted.output.contains("is a directory"), "\(converted.output)")
        #expect(!converted.output.contains("NSCocoaErrorDomain"))
    }

    /// A file whose name is not UTF-8 (byte 0xFF) opens: the name's bytes reach open(2) unchanged.
    @Test func fileNamesThatAreNotUTF8Open() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let name = #""$(printf 'h_\377.csv')""#
        let made = try TestEnvironment.run("/bin/sh", ["-c", "cd \"$0\" && printf 'a,b\\n1,2\\n' > \(name)", directory.path])
        try #require(made.status == 0, "\(made.output)")
        let shown = try TestEnvironment.run("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" table show \(name)", directory.path, hepml])
        #expect(shown.status == 0 && shown.output.contains("a") && shown.output.contains("2"), "\(shown.output)")
    }

    /// Found by the bad-input suite: a data set whose `scaler.npy` had changed was refused by
    /// `hcal score`/`evaluate` as "trained on another data set or mask" without naming a file.
    @Test func hcalNamesTheScalingFileThatDiffersFromTraining() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for step in [["hcal", "generate", "-o", path("raw"), "--runs", "1", "--lumisections", "30", "--events-per-ls", "60"],
                     ["hcal", "prepare", path("raw"), "-o", path("dataset"), "--train-ls", "1:20", "--test-ls", "21:-1"],
                     ["hcal", "train", "-d", path("dataset"), "--model", "cnnfnnae", "-o", path("run"), "--latent", "2", "--epochs", "1", "--quiet"],
                     ["hcal", "prepare", path("raw"), "-o", path("other"), "--train-ls", "1:10", "--test-ls", "21:-1"]] {
            let result = try TestEnvironment.run(hepml, step)
            try #require(result.status == 0, "\(step[1]): \(result.output)")
        }
        let scored = try TestEnvironment.run(hepml, ["hcal", "score", "-d", path("other"), "-m", path("run"), "-o", path("scores")])
        #expect(scored.status != 0 && scored.output.contains(path("other/scaler.npy")) && scored.output.contains("scoring.safetensors"), "\(scored.output)")
        let evaluated = try TestEnvironment.run(hepml, ["hcal", "evaluate", "-d", path("other"), "-m", path("run"), "-o", path("report")])
        #expect(evaluated.status != 0 && evaluated.output.contains(path("other/scaler.npy")), "\(evaluated.output)")
    }

    /// The sum of one row of a list (or list-of-lists) column.
    static func sum(of column: Column, row: Int) -> Double {
        guard let leaves = column.leafValuesAsFloat() else { return 0 }
        var range = column.listOffsets[0][row]..<column.listOffsets[0][row + 1]
        if column.listOffsets.count == 2 { range = column.listOffsets[1][range.lowerBound]..<column.listOffsets[1][range.upperBound] }
        return leaves[range].reduce(0) { $0 + Double($1) }
    }
}
