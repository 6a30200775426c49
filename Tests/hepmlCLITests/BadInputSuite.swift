import Foundation
import HEPMLColumnar
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// The bad-input suite (docs/reliability.md): every command that reads a user file runs on the
/// valid file and on seeded damaged copies of it (truncations, byte flips, oversized size
/// fields, wrong types, malformed configuration). Each run must exit 0, or exit non-zero with a
/// message naming the damaged file; never die of a signal, pass the memory limit or the time
/// limit, write outside its output directory or leave a temporary (partial) file.
///
/// A new command joins by one entry in `BadInputTarget.all`: which bundle of valid files it
/// reads (`BadInputBundle`), which file of the bundle is damaged, and its arguments.
@Suite(.serialized) struct BadInputSuite {
    @Test func everyCommandSurvivesDamagedInputs() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let root = try TestEnvironment.temporaryDirectory("hepml-badinput")
        defer { try? FileManager.default.removeItem(at: root) }
        // HEPML_BADINPUT_ONLY=PREFIX runs the commands whose name starts with PREFIX (e.g. `hcal`).
        let only = ProcessInfo.processInfo.environment["HEPML_BADINPUT_ONLY"] ?? ""
        let targets = BadInputTarget.all.enumerated().filter { $0.element.name.hasPrefix(only) }
        let bundles = try BadInputBundle.makeAll(Set(targets.map(\.element.bundle)), in: root.appendingPathComponent("bundles"), hepml: hepml)
        var cases: [BadInputCase] = []
        for (index, target) in targets {
            guard let bundle = bundles[target.bundle] else { continue }
            let damaged = try target.damagedFile(in: bundle)
            let bytes = try [UInt8](Data(contentsOf: bundle.appendingPathComponent(damaged)))
            let mutations = BadInputMutation.seeded(bytes, count: target.cases, seed: UInt64(index + 1), json: damaged.hasSuffix(".json"))
            cases += mutations.map { BadInputCase(target: target, bundle: bundle, damaged: damaged, mutation: $0) }
        }
        let results = BadInputRunner(hepml: hepml, scratch: root.appendingPathComponent("cases")).run(cases)
        var counts: [String: Int] = [:]
        for result in results {
            counts[result.outcome, default: 0] += 1
            #expect(result.problem == nil, "\(result.label): \(result.problem ?? "")\n\(result.output.suffix(600))")
        }
        let summary = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("bad-input suite: \(results.count) runs over \(targets.count) commands: \(summary)")
        #expect(results.contains { $0.outcome == "exit 0" } && results.contains { $0.outcome == "clean error" })
    }
}

/// A folder of valid inputs that the targets' damaged copies start from.
enum BadInputBundle: String, CaseIterable {
    /// `hist.root` (1-D, 2-D and profile histograms, a directory) and `tree.root` (tree `t`).
    case root
    /// `table.parquet`, `table.npz`, `table.csv` (scalar and list columns).
    case tables
    /// `dqm generate` output (ROOT files, contents.json, datasets.json), `algorithm.json`,
    /// `fetched.parquet`, `trained.parquet` and an autoencoder run directory `models/autoencoder_ae`.
    case dqm
    /// `calq.csv`: 48 CALQ columns, and `run`: an `econt train` output directory (1 epoch).
    case econt
    /// `raw/*.root` (`hcal generate`: 1 run of 30 LS), `dataset` (`hcal prepare`) and `run`
    /// (`hcal train`, the spatial model, 1 epoch).
    case hcal
    /// `jets.parquet` (`compress generate`), `model` (`compress train`, 1 epoch) and
    /// `jets.hepmlz.parquet` (`compress compress`).
    case compress
    /// `data` (`ldmx generate`: manifest.json and ROOT files), `images.npz` and `run` (1 epoch).
    case ldmx
    /// `job`: a batch state directory (HTCondor, so that no scheduler is called) of two tasks that
    /// ran, with `batch.json` and `tasks/*.json`; `failed`: the same with one failed task;
    /// `grid.json`: a sweep grid.
    case batch

    static func makeAll(_ bundles: Set<BadInputBundle>, in directory: URL, hepml: String) throws -> [BadInputBundle: URL] {
        var made: [BadInputBundle: URL] = [:]
        for bundle in allCases where bundles.contains(bundle) {
            let folder = directory.appendingPathComponent(bundle.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try bundle.write(into: folder, hepml: hepml)
            made[bundle] = folder
        }
        return made
    }

    private func write(into folder: URL, hepml: String) throws {
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        switch self {
        case .root:
            let writer = ROOTWriter(path: path("hist.root"))
            let x = Axis(binCount: 4, minimum: 0, maximum: 4), y = Axis(name: "yaxis", binCount: 3, minimum: 0, maximum: 3)
            try writer.write(Histogram(className: "TH1D", name: "h1", xAxis: x, contents: [0, 1, -2, .nan, 4, 0], entries: 7), to: "h1")
            try writer.write(Histogram(className: "TH2F", name: "h2", xAxis: x, yAxis: y, contents: (0..<30).map { Double($0 % 7) - 2 }, entries: 30), to: "dir/h2")
            try writer.close()
            let table = try BadInputBundle.sampleTable()
            let tree = ROOTWriter(path: path("tree.root"))
            try tree.writeTree(table: table, to: "t", title: "sample")
            try tree.close()
        case .tables:
            let table = try BadInputBundle.sampleTable()
            try TableFile.write(table, to: path("table.parquet"))
            try TableFile.write(try Table(columns: table.columns.filter { $0.type.listDepth == 0 && $0.name != "label" }), to: path("table.npz"))
            try TableFile.write(try Table(columns: table.columns.filter { $0.type.listDepth == 0 }), to: path("table.csv"))
        case .dqm:
            let generated = try TestEnvironment.run(hepml, ["dqm", "generate", "--runs", "8", "--output-dir", folder.path, "--quiet", "--seed", "5"])
            guard generated.status == 0 else { throw BadInputError("dqm generate: \(generated.output)") }
            let fetched = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", path("contents.json"), "--datasets", path("datasets.json"),
                                                          "--input", folder.path, "--output-dir", path("fetch"), "--quiet"])
            guard fetched.status == 0, let table = try FileManager.default.contentsOfDirectory(atPath: path("fetch")).first(where: { $0.hasSuffix(".parquet") }) else {
                throw BadInputError("dqm fetch: \(fetched.output)")
            }
            try FileManager.default.moveItem(atPath: path("fetch/" + table), toPath: path("fetched.parquet"))
            try FileManager.default.removeItem(atPath: path("fetch"))
            let trained = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "pca", "--input-file", path("fetched.parquet"), "--output-dir", path("train"),
                                                          "--low-stat-threshold", "0", "--quiet"])
            guard trained.status == 0 else { throw BadInputError("dqm train: \(trained.output)") }
            try FileManager.default.moveItem(atPath: path("train/fetched.parquet"), toPath: path("trained.parquet"))
            try FileManager.default.removeItem(atPath: path("train"))
            try #"{"name": "pca", "n_components": 2, "low_stat_threshold": 0}"#.write(toFile: path("algorithm.json"), atomically: true, encoding: .utf8)
            let autoencoder = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "ae", "--autoencoder-mode", "simultaneous", "--tag", "ae", "--epochs", "1",
                                                              "--input-file", path("fetched.parquet"), "--output-dir", path("models"), "--low-stat-threshold", "0", "--quiet"])
            guard autoencoder.status == 0 else { throw BadInputError("dqm train ae: \(autoencoder.output)") }
            try FileManager.default.removeItem(atPath: path("models/fetched.parquet"))
            for shard in ["0/2", "1/2"] {
                let part = try TestEnvironment.run(hepml, ["dqm", "fetch", "--contents", path("contents.json"), "--datasets", path("datasets.json"),
                                                           "--input", folder.path, "--output-dir", path("parts"), "--quiet", "--shard", shard])
                guard part.status == 0 else { throw BadInputError("dqm fetch --shard \(shard): \(part.output)") }
            }
        case .econt:
            var generator = SystemRandomNumberGenerator()
            var text = (0..<48).map { "CALQ_\($0)" }.joined(separator: ",") + "\n"
            for _ in 0..<60 { text += (0..<48).map { _ in String(Int.random(in: 0...40, using: &generator) < 30 ? 0 : Int.random(in: 1...200, using: &generator)) }.joined(separator: ",") + "\n" }
            try text.write(toFile: path("calq.csv"), atomically: true, encoding: .utf8)
            try run(["econt", "train", "-i", path("calq.csv"), "-o", path("run"), "--epochs", "1", "--skip-plot", "--quiet"])
        case .hcal:
            try run(["hcal", "generate", "-o", path("raw"), "--runs", "1", "--lumisections", "30", "--events-per-ls", "60", "--seed", "3"])
            try run(["hcal", "prepare", path("raw"), "-o", path("dataset"), "--train-ls", "1:20", "--test-ls", "21:-1"])
            try run(["hcal", "train", "-d", path("dataset"), "--model", "cnnfnnae", "-o", path("run"), "--latent", "2", "--epochs", "1", "--batch-size", "4", "--quiet"])
            try run(["hcal", "score", "-d", path("dataset"), "-m", path("run"), "-o", path("scoreparts"), "--shard", "0/1"])
        case .compress:
            try run(["compress", "generate", "-o", path("jets.parquet"), "--events", "300", "--seed", "2"])
            try run(["compress", "train", "-i", path("jets.parquet"), "--branches", BadInputTarget.jetColumns, "--model", "AE_basic:4,8,3,8,4",
                     "--epochs", "1", "-o", path("model")])
            try run(["compress", "compress", "-i", path("jets.parquet"), "--branches", BadInputTarget.jetColumns, "--model", path("model"),
                     "-o", path("jets.hepmlz.parquet")])
            try FileManager.default.createDirectory(atPath: path("parts"), withIntermediateDirectories: true)
            for shard in ["0/2", "1/2"] {
                try run(["compress", "compress", "-i", path("jets.parquet"), "--branches", BadInputTarget.jetColumns, "--model", path("model"),
                         "-o", path("parts/jets.hepmlz.parquet"), "--shard", shard])
            }
        case .ldmx:
            try run(["ldmx", "generate", "-o", path("data"), "--events-per-mass", "20", "--background-events", "40", "--masses", "10,100", "--seed", "4"])
            try run(["ldmx", "images", "--manifest", path("data/manifest.json"), "--dim", "8", "-o", path("images.npz")])
            try run(["ldmx", "train", "--images", path("images.npz"), "-o", path("run"), "--epochs", "1", "--batch-size", "20", "--quiet"])
        case .batch:
            try run(["batch", "submit", "--scheduler", "htcondor", "--array", "2", "--output-dir", path("job"), "--",
                     "hepml", "dqm", "generate", "--runs", "2", "--output-dir", path("generated-{task}"), "--seed", "{task}", "--quiet"])
            for task in ["0", "1"] { try run(["batch", "run-task", path("job"), task]) }
            // The tasks of `failed` fail (a JSON file is no ROOT file), so that `resubmit` has work on the valid state.
            try run(["batch", "submit", "--scheduler", "htcondor", "--array", "2", "--output-dir", path("failed"), "--",
                     "hepml", "root", "ls", path("job/tasks/{task}.json")])
            for task in ["0", "1"] { _ = try TestEnvironment.run(hepml, ["batch", "run-task", path("failed"), task]) }
            try #"{"parameters": [{"name": "seed", "values": [1, 2]}, {"name": "runs", "values": [2, 3]}], "sample": {"count": 3, "seed": 1}}"#
                .write(toFile: path("grid.json"), atomically: true, encoding: .utf8)
        }

        func run(_ arguments: [String]) throws {
            let result = try TestEnvironment.run(hepml, arguments)
            guard result.status == 0 else { throw BadInputError("\(arguments.prefix(2).joined(separator: " ")): \(result.output)") }
        }
    }

    /// Scalar, string and list columns: what every table format and the tree writer carry.
    static func sampleTable() throws -> Table {
        let rows = 40
        return try Table(columns: [
            Column(name: "run", int64: (0..<rows).map { Int64(1000 + $0) }),
            Column(name: "pt", float64: (0..<rows).map { Double($0) * 1.5 - 7 }),
            Column(name: "label", strings: (0..<rows).map { "r\($0)" }),
            Column(name: "hist", values: .float32((0..<rows * 5).map { Float($0 % 11) }), listOffsets: [(0...rows).map { $0 * 5 }]),
        ])
    }
}

/// One command of the suite. `arguments` gets the bundle folder (holding the damaged file)
/// and an empty output folder; every path it names for output lies in that folder.
struct BadInputTarget: Sendable {
    var name: String
    var bundle: BadInputBundle
    /// The bundle file that is damaged, relative to the bundle folder; a last component `*.ext`
    /// is the first file of that folder, by name, ending in `.ext`.
    var damaged: String
    /// Damaged copies run (besides the valid file); commands that train get fewer.
    var cases = 24
    /// A bundle folder the command writes into by design (a run or state directory it updates),
    /// relative to the bundle folder; writes there are not writes outside the output directory.
    var updates: String?
    var arguments: @Sendable (_ bundle: String, _ output: String) -> [String]

    static let all: [BadInputTarget] = [
        BadInputTarget(name: "root ls", bundle: .root, damaged: "hist.root") { b, _ in ["root", "ls", "-l", "-r", b + "/hist.root"] },
        BadInputTarget(name: "root show 1-D", bundle: .root, damaged: "hist.root") { b, _ in ["root", "show", b + "/hist.root:h1"] },
        BadInputTarget(name: "root show 2-D", bundle: .root, damaged: "hist.root") { b, _ in ["root", "show", b + "/hist.root:dir/h2"] },
        BadInputTarget(name: "root show tree", bundle: .root, damaged: "tree.root") { b, _ in ["root", "show", b + "/tree.root:t"] },
        BadInputTarget(name: "root scan", bundle: .root, damaged: "tree.root") { b, _ in ["root", "scan", b + "/tree.root:t", "--entries", "0:5"] },
        BadInputTarget(name: "root dump", bundle: .root, damaged: "tree.root") { b, o in ["root", "dump", b + "/tree.root:t", "--to", o + "/dump.parquet"] },
        BadInputTarget(name: "table show parquet", bundle: .tables, damaged: "table.parquet") { b, _ in ["table", "show", b + "/table.parquet", "--schema"] },
        BadInputTarget(name: "table show npz", bundle: .tables, damaged: "table.npz") { b, _ in ["table", "show", b + "/table.npz"] },
        BadInputTarget(name: "table show csv", bundle: .tables, damaged: "table.csv") { b, _ in ["table", "show", b + "/table.csv"] },
        BadInputTarget(name: "table convert parquet", bundle: .tables, damaged: "table.parquet") { b, o in ["table", "convert", b + "/table.parquet", o + "/out.root", "--tree", "t"] },
        BadInputTarget(name: "table convert npz", bundle: .tables, damaged: "table.npz") { b, o in ["table", "convert", b + "/table.npz", o + "/out.csv"] },
        BadInputTarget(name: "table convert csv", bundle: .tables, damaged: "table.csv") { b, o in ["table", "convert", b + "/table.csv", o + "/out.parquet"] },
        BadInputTarget(name: "table convert csv to npz", bundle: .tables, damaged: "table.csv", cases: 6) { b, o in
            ["table", "convert", b + "/table.csv", o + "/out.npz", "--columns", "run,pt"]
        },
        BadInputTarget(name: "plot histogram", bundle: .root, damaged: "hist.root", cases: 12) { b, o in ["plot", b + "/hist.root:dir/h2", "-o", o + "/h2.png"] },
        BadInputTarget(name: "plot table cell", bundle: .tables, damaged: "table.parquet", cases: 12) { b, o in ["plot", b + "/table.parquet", "--column", "hist", "--row", "3", "-o", o + "/cell.svg"] },
        BadInputTarget(name: "dqm fetch contents", bundle: .dqm, damaged: "contents.json") { b, o in dqmFetch(b, o) },
        BadInputTarget(name: "dqm fetch datasets", bundle: .dqm, damaged: "datasets.json") { b, o in dqmFetch(b, o) },
        BadInputTarget(name: "dqm fetch ROOT file", bundle: .dqm, damaged: "*.root", cases: 12) { b, o in dqmFetch(b, o) },
        BadInputTarget(name: "dqm train", bundle: .dqm, damaged: "fetched.parquet", cases: 12) { b, o in
            ["dqm", "train", "--algorithm", "pca", "--input-file", b + "/fetched.parquet", "--output-dir", o, "--low-stat-threshold", "0", "--quiet"]
        },
        BadInputTarget(name: "dqm train config", bundle: .dqm, damaged: "algorithm.json", cases: 12) { b, o in
            ["dqm", "train", "--algorithm", b + "/algorithm.json", "--input-file", b + "/fetched.parquet", "--output-dir", o, "--quiet"]
        },
        BadInputTarget(name: "dqm assess", bundle: .dqm, damaged: "trained.parquet", cases: 12) { b, o in ["dqm", "assess", "--input-file", b + "/trained.parquet", "--output-dir", o] },
        BadInputTarget(name: "dqm export model", bundle: .dqm, damaged: "models/autoencoder_ae/model.json", cases: 12) { b, o in
            ["dqm", "export", "--run", b + "/models/autoencoder_ae", "--output-dir", o]
        },
        BadInputTarget(name: "dqm export weights", bundle: .dqm, damaged: "models/autoencoder_ae/weights.safetensors", cases: 12) { b, o in
            ["dqm", "export", "--run", b + "/models/autoencoder_ae", "--output-dir", o]
        },
        BadInputTarget(name: "econt train", bundle: .econt, damaged: "calq.csv", cases: 8) { b, o in
            ["econt", "train", "-i", b, "-o", o, "--epochs", "1", "--skip-plot", "--quiet"]
        },
        BadInputTarget(name: "econt evaluate", bundle: .econt, damaged: "calq.csv", cases: 8, updates: "run") { b, _ in
            ["econt", "evaluate", "-i", b + "/calq.csv", "-o", b + "/run", "--skip-plot"]
        },
        BadInputTarget(name: "econt evaluate weights", bundle: .econt, damaged: "run/\(econtNetwork)/*.safetensors", cases: 8, updates: "run") { b, _ in
            ["econt", "evaluate", "-i", b + "/calq.csv", "-o", b + "/run", "--skip-plot"]
        },
        BadInputTarget(name: "econt export", bundle: .econt, damaged: "run/\(econtNetwork)/*.safetensors", cases: 12, updates: "run") { b, _ in
            ["econt", "export", "-o", b + "/run"]
        },
        BadInputTarget(name: "econt train-emd-loss", bundle: .econt, damaged: "calq.csv", cases: 6) { b, o in
            ["econt", "train-emd-loss", "-i", b + "/calq.csv", "-o", o, "--epochs", "1", "--max-pairs", "40", "--quiet"]
        },
        BadInputTarget(name: "hcal prepare", bundle: .hcal, damaged: "raw/*.root", cases: 12) { b, o in
            ["hcal", "prepare", b + "/raw", "-o", o + "/dataset", "--train-ls", "1:20", "--test-ls", "21:-1"]
        },
        BadInputTarget(name: "hcal train", bundle: .hcal, damaged: "dataset/dataset.json", cases: 6) { b, o in
            ["hcal", "train", "-d", b + "/dataset", "--model", "cnnfnnae", "-o", o + "/run", "--latent", "2", "--epochs", "1", "--quiet"]
        },
        BadInputTarget(name: "hcal score dataset", bundle: .hcal, damaged: "dataset/maps/*.npy", cases: 8) { b, o in
            ["hcal", "score", "-d", b + "/dataset", "-m", b + "/run", "-o", o]
        },
        BadInputTarget(name: "hcal score table", bundle: .hcal, damaged: "dataset/lumisections.parquet", cases: 8) { b, o in
            ["hcal", "score", "-d", b + "/dataset", "-m", b + "/run", "-o", o]
        },
        BadInputTarget(name: "hcal score model", bundle: .hcal, damaged: "run/model.json", cases: 8) { b, o in
            ["hcal", "score", "-d", b + "/dataset", "-m", b + "/run", "-o", o]
        },
        BadInputTarget(name: "hcal evaluate", bundle: .hcal, damaged: "dataset/scaler.npy", cases: 6) { b, o in
            ["hcal", "evaluate", "-d", b + "/dataset", "-m", b + "/run", "-o", o + "/report", "--samples", "4", "--strengths", "2.0,0.0"]
        },
        BadInputTarget(name: "hcal merge table", bundle: .hcal, damaged: "scoreparts/*.parquet", cases: 8) { b, o in
            ["hcal", "merge", b + "/scoreparts/scores.part-0-of-1.parquet", "-o", o + "/merged"]
        },
        BadInputTarget(name: "hcal merge manifest", bundle: .hcal, damaged: "scoreparts/*.json", cases: 8) { b, o in
            ["hcal", "merge", b + "/scoreparts/scores.part-0-of-1.parquet", "-o", o + "/merged"]
        },
        BadInputTarget(name: "hcal export", bundle: .hcal, damaged: "run/weights.safetensors", cases: 12) { b, o in
            ["hcal", "export", "-m", b + "/run", "-o", o + "/model.onnx"]
        },
        BadInputTarget(name: "compress train", bundle: .compress, damaged: "jets.parquet", cases: 6) { b, o in
            ["compress", "train", "-i", b + "/jets.parquet", "--branches", jetColumns, "--model", "AE_basic:4,8,3,8,4", "--epochs", "1", "-o", o + "/model"]
        },
        BadInputTarget(name: "compress compress", bundle: .compress, damaged: "jets.parquet", cases: 12) { b, o in compressCompress(b, o) },
        BadInputTarget(name: "compress compress model", bundle: .compress, damaged: "model/compression.json", cases: 8) { b, o in compressCompress(b, o) },
        BadInputTarget(name: "compress decompress", bundle: .compress, damaged: "jets.hepmlz.parquet", cases: 12) { b, o in
            ["compress", "decompress", b + "/jets.hepmlz.parquet", "-o", o + "/decoded.root"]
        },
        BadInputTarget(name: "compress merge part", bundle: .compress, damaged: "parts/*.parquet", cases: 8) { b, o in compressMerge(b, o) },
        BadInputTarget(name: "compress merge manifest", bundle: .compress, damaged: "parts/*.json", cases: 8) { b, o in compressMerge(b, o) },
        BadInputTarget(name: "compress info", bundle: .compress, damaged: "jets.hepmlz.parquet", cases: 12) { b, _ in ["compress", "info", b + "/jets.hepmlz.parquet"] },
        BadInputTarget(name: "compress evaluate", bundle: .compress, damaged: "jets.hepmlz.parquet", cases: 8) { b, o in
            ["compress", "evaluate", b + "/jets.hepmlz.parquet", "-i", b + "/jets.parquet", "--report", o + "/report"]
        },
        BadInputTarget(name: "ldmx images manifest", bundle: .ldmx, damaged: "data/manifest.json", cases: 8) { b, o in
            ["ldmx", "images", "--manifest", b + "/data/manifest.json", "--dim", "8", "-o", o + "/images.npz"]
        },
        BadInputTarget(name: "ldmx images ROOT file", bundle: .ldmx, damaged: "data/*.root", cases: 8) { b, o in
            ["ldmx", "images", "--manifest", b + "/data/manifest.json", "--dim", "8", "-o", o + "/images.npz", "--cell-images", o + "/cells.npy", "--cell-events", "20"]
        },
        BadInputTarget(name: "ldmx train", bundle: .ldmx, damaged: "images.npz", cases: 6) { b, o in
            ["ldmx", "train", "--images", b + "/images.npz", "-o", o + "/run", "--epochs", "1", "--batch-size", "20", "--quiet"]
        },
        BadInputTarget(name: "ldmx evaluate", bundle: .ldmx, damaged: "run/weights.safetensors", cases: 8, updates: "run") { b, _ in
            ["ldmx", "evaluate", "--images", b + "/images.npz", "--run", b + "/run", "--displays", "1"]
        },
        BadInputTarget(name: "dqm merge part", bundle: .dqm, damaged: "parts/*.parquet", cases: 12) { b, o in dqmMerge(b, o) },
        BadInputTarget(name: "dqm merge manifest", bundle: .dqm, damaged: "parts/*.json", cases: 12) { b, o in dqmMerge(b, o) },
        BadInputTarget(name: "batch status", bundle: .batch, damaged: "job/batch.json", cases: 12) { b, _ in ["batch", "status", b + "/job", "--all"] },
        BadInputTarget(name: "batch status task record", bundle: .batch, damaged: "job/tasks/0.json", cases: 12) { b, _ in ["batch", "status", b + "/job"] },
        BadInputTarget(name: "batch collect", bundle: .batch, damaged: "job/tasks/1.json", cases: 12) { b, _ in ["batch", "collect", b + "/job"] },
        BadInputTarget(name: "batch sweep grid", bundle: .batch, damaged: "grid.json", cases: 12) { b, o in
            ["batch", "sweep", "--scheduler", "htcondor", "--grid", b + "/grid.json", "--output-dir", o + "/sweep", "--",
             "hepml", "dqm", "generate", "--runs", "{runs}", "--seed", "{seed}", "--output-dir", "{run_dir}"]
        },
        BadInputTarget(name: "batch resubmit", bundle: .batch, damaged: "failed/batch.json", cases: 12, updates: "failed") { b, _ in ["batch", "resubmit", b + "/failed"] },
    ]

    static let jetColumns = "Jet_pt,Jet_eta,Jet_phi,Jet_mass"
    /// The run directory `econt train` writes for the default network.
    static let econtNetwork = "8x8_c8_S2_tele"

    func damagedFile(in bundle: URL) throws -> String {
        let name = (damaged as NSString).lastPathComponent, folder = (damaged as NSString).deletingLastPathComponent
        guard name.hasPrefix("*") else { return damaged }
        let names = try FileManager.default.contentsOfDirectory(atPath: bundle.appendingPathComponent(folder).path).filter { $0.hasSuffix(name.dropFirst()) }.sorted()
        guard let first = names.first else { throw BadInputError("no \(name) in \(bundle.path)/\(folder)") }
        return (folder as NSString).appendingPathComponent(first)
    }

    private static func compressCompress(_ bundle: String, _ output: String) -> [String] {
        ["compress", "compress", "-i", bundle + "/jets.parquet", "--branches", jetColumns, "--model", bundle + "/model", "-o", output + "/jets.hepmlz.parquet"]
    }

    /// `compress merge` of the two parts of a `--shard K/2` compression.
    private static func compressMerge(_ bundle: String, _ output: String) -> [String] {
        ["compress", "merge", bundle + "/parts/jets.hepmlz.part-0-of-2.parquet", bundle + "/parts/jets.hepmlz.part-1-of-2.parquet",
         "-o", output + "/merged.hepmlz.parquet"]
    }

    /// `dqm merge` of the two parts of a `--shard K/2` fetch.
    private static func dqmMerge(_ bundle: String, _ output: String) -> [String] {
        let parts = ((try? FileManager.default.contentsOfDirectory(atPath: bundle + "/parts")) ?? []).filter { $0.hasSuffix(".parquet") }.sorted()
        return ["dqm", "merge"] + parts.map { bundle + "/parts/" + $0 } + ["-o", output + "/merged.parquet"]
    }

    private static func dqmFetch(_ bundle: String, _ output: String) -> [String] {
        ["dqm", "fetch", "--contents", bundle + "/contents.json", "--datasets", bundle + "/datasets.json", "--input", bundle, "--output-dir", output, "--quiet"]
    }
}

/// A damaged copy of a file's bytes, with a label for the report.
struct BadInputMutation: Sendable {
    var label: String
    var bytes: [UInt8]

    /// The valid file, then `count` seeded damages cycling through the kinds.
    static func seeded(_ valid: [UInt8], count: Int, seed: UInt64, json: Bool) -> [BadInputMutation] {
        var generator = SplitMix(seed: seed)
        var result = [BadInputMutation(label: "valid", bytes: valid)]
        for index in 0..<count {
            var bytes = valid
            let label: String
            let position = valid.isEmpty ? 0 : Int(generator.next() % UInt64(valid.count))
            switch index % 6 {
            case 0:
                let cut = index == 0 ? 0 : (index == 6 ? valid.count / 2 : position)
                bytes = Array(valid.prefix(cut))
                label = "truncated at \(cut)"
            case 1, 2:
                let flips = 1 + Int(generator.next() % 4)
                for _ in 0..<flips where !bytes.isEmpty { bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(1 + generator.next() % 255) }
                label = "\(flips) byte flips from seed \(seed)/\(index)"
            case 3:
                // A size or count field read as huge: 0x7fffffff or 0xffffffff, either byte order.
                let field: [UInt8] = generator.next() % 2 == 0 ? [0x7F, 0xFF, 0xFF, 0xFF] : [0xFF, 0xFF, 0xFF, 0xFF]
                for offset in 0..<min(4, max(0, bytes.count - position)) { bytes[position + offset] = field[offset] }
                label = "oversized field at \(position)"
            case 4:
                bytes = json ? Array(#"{"primary_datasets": 7, "years": [null], "name": {"x": 1e999}}"#.utf8) : Array("run,pt\n1,2\n".utf8)
                label = json ? "wrong JSON types" : "another format's bytes"
            default:
                bytes = json ? Array(valid.prefix(valid.count * 2 / 3)) + Array("\u{0}\"]".utf8) : bytes + Array(repeating: 0xFF, count: 64)
                label = json ? "malformed JSON" : "trailing garbage"
            }
            result.append(BadInputMutation(label: label, bytes: bytes))
        }
        return result
    }
}

/// SplitMix64: the suite's cases are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct BadInputCase: Sendable {
    var target: BadInputTarget
    var bundle: URL
    var damaged: String
    var mutation: BadInputMutation
    var label: String { "\(target.name) [\(mutation.label)]" }
}

struct BadInputResult: Sendable {
    var label: String
    var outcome: String
    var problem: String?
    var output: String
}

struct BadInputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs cases two at a time, each in its own copy of its bundle, under an address-space limit
/// (`ulimit -v`) and a time limit.
struct BadInputRunner: Sendable {
    var hepml: String
    var scratch: URL
    /// Address space per run: far above what any case needs, far below a decompression bomb.
    var memoryLimitKiB = 3 << 20
    var timeLimit: TimeInterval = 120

    func run(_ cases: [BadInputCase]) -> [BadInputResult] {
        let lock = NSLock()
        var results = [BadInputResult?](repeating: nil, count: cases.count)
        var next = 0
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < cases.count else { return }
                let result = runOne(cases[index], number: index)
                lock.lock()
                results[index] = result
                lock.unlock()
            }
        }
        return results.compactMap { $0 }
    }

    private func runOne(_ testCase: BadInputCase, number: Int) -> BadInputResult {
        let manager = FileManager.default
        // Inputs and output sit three levels down, so that a name climbing out with `..` lands in
        // the case directory, where the listing sees it.
        let caseDirectory = scratch.appendingPathComponent("case-\(number)")
        let jail = caseDirectory.appendingPathComponent("a/b/c")
        let bundle = jail.appendingPathComponent("in"), output = jail.appendingPathComponent("out")
        defer { try? manager.removeItem(at: caseDirectory) }
        do {
            try manager.createDirectory(at: jail, withIntermediateDirectories: true)
            try manager.copyItem(at: testCase.bundle, to: bundle)
            try manager.createDirectory(at: output, withIntermediateDirectories: true)
            try Data(testCase.mutation.bytes).write(to: bundle.appendingPathComponent(testCase.damaged))
        } catch {
            return BadInputResult(label: testCase.label, outcome: "setup failed", problem: "setup: \(error)", output: "")
        }
        let writable = [output] + (testCase.target.updates.map { [bundle.appendingPathComponent($0)] } ?? [])
        let before = Self.listing(caseDirectory, excluding: writable)
        let arguments = testCase.target.arguments(bundle.path, output.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(memoryLimitKiB); exec \"$0\" \"$@\"", hepml] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment["HEPML_NUM_THREADS"] = "1"
        process.environment = environment
        process.currentDirectoryURL = output
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        var timedOut = false
        do { try process.run() } catch {
            return BadInputResult(label: testCase.label, outcome: "setup failed", problem: "cannot start: \(error)", output: "")
        }
        let timer = DispatchWorkItem { timedOut = true; kill(process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: timer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        let text = String(decoding: data, as: UTF8.self)

        var problems: [String] = []
        let outcome: String
        if timedOut {
            outcome = "timeout"
            problems.append("ran past \(Int(timeLimit)) s")
        } else if process.terminationReason == .uncaughtSignal {
            outcome = "signal"
            problems.append("killed by signal \(process.terminationStatus) (memory limit \(memoryLimitKiB >> 10) MiB)")
        } else if process.terminationStatus == 0 {
            outcome = "exit 0"
            if testCase.mutation.label == "valid", text.contains("Error") { problems.append("the valid file printed an error") }
        } else {
            let name = (testCase.damaged as NSString).lastPathComponent
            // A damaged file is named in the message; a JSON configuration may be named by the key at fault.
            outcome = text.contains(name) ? "clean error" : "error without file name"
            if outcome != "clean error" { problems.append("the error does not name \(name)") }
            if testCase.mutation.label == "valid" { problems.append("the valid file failed") }
        }
        let after = Self.listing(caseDirectory, excluding: writable)
        let written = after.subtracting(before)
        if !written.isEmpty { problems.append("wrote outside the output directory: \(written.sorted().prefix(3))") }
        let leftovers = writable.flatMap { Self.listing($0, excluding: []) }.filter { ($0 as NSString).lastPathComponent.contains(".tmp-") }
        if !leftovers.isEmpty { problems.append("left partial outputs: \(leftovers.sorted().prefix(3))") }
        return BadInputResult(label: testCase.label, outcome: outcome, problem: problems.isEmpty ? nil : problems.joined(separator: "; "), output: text)
    }

    /// Every path under `directory`, `excluding` subtrees.
    static func listing(_ directory: URL, excluding: [URL]) -> Set<String> {
        var paths = Set<String>()
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return paths }
        while let relative = walker.nextObject() as? String {
            let full = directory.path + "/" + relative
            if excluding.contains(where: { full == $0.path || full.hasPrefix($0.path + "/") }) { continue }
            paths.insert(full)
        }
        return paths
    }
}
