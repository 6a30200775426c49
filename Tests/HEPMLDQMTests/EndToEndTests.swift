import Foundation
import HEPMLColumnar
import HEPMLExperiment
import HEPMLCore
import HEPMLNN
import HEPMLTestSupport
import Testing
@testable import HEPMLDQM

/// generate → ROOT files → fetch → Parquet → train (PCA, autoencoder, statistical test) → assess,
/// through the library on a small data set.
@Suite struct EndToEndTests {
    /// A small data set written as DQM ROOT files with its contents and datasets JSON, fetched
    /// from those files into `<dir>/out/ZeroBias.parquet` as `hepml dqm fetch` does.
    static func fetchedDataset(runs: Int, in directory: URL) throws -> (dataset: SyntheticDQMDataset, parquet: String) {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = runs
        configuration.seed = 77
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let data = directory.appendingPathComponent("data").path
        let json = try dataset.write(to: data, quiet: true)
        var log: [String] = [], warnings: [String] = []
        let written = try DQMFetch.fetchToParquet(contentsFile: json.contents, datasetsFile: json.datasets, inputs: [data],
                                                  outputDirectory: directory.appendingPathComponent("out").path, quiet: true,
                                                  log: { log.append($0) }, warn: { warnings.append($0) })
        let parquet = directory.appendingPathComponent("out/ZeroBias.parquet").path
        #expect(written == [parquet] && warnings.isEmpty, "\(warnings)")
        #expect(log.last?.hasPrefix("ZeroBias: \(runs) runs read, 0 files skipped") == true, "\(log)")
        return (dataset, parquet)
    }

    @Test func fetchReproducesTheGeneratedHistograms() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-fetch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (dataset, parquet) = try Self.fetchedDataset(runs: 12, in: directory)
        let table = try Parquet.read(path: parquet)
        #expect(Array(table.columnNames.suffix(3)) == ["run_number", "year", "label"])
        #expect(try DQMTable.runNumbers(table) == dataset.runs.map(\.run))
        #expect(try DQMTable.labels(table) == dataset.runs.map(\.label))
        for (index, path) in dataset.contents.histograms.enumerated() {
            let column = try DQMTable.histogramColumn(try table.column(path.columnName))
            let expected = dataset.runs[3].histograms[index].histogram
            #expect(column.shape == expected.shape)
            // TH*F storage: the values are the float32 of the generated counts.
            #expect(column.runs[3] == expected.contents.map { Double(Float($0)) })
        }
        #expect(table.schema.first { $0.name.hasSuffix("ClusterOccupancyEtaPhi") }?.type == .listOfLists(.float32))
        let truth = try Data(contentsOf: directory.appendingPathComponent("data/truth.json"))
        #expect(try JSONDecoder().decode([SyntheticDQMDataset.RunTruth].self, from: truth) == dataset.truth)
    }

    @Test func corruptFilesAreSkippedAndMissingHistogramsBecomeNull() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-corrupt")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = 6
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let data = directory.appendingPathComponent("data").path
        try dataset.write(to: data, quiet: true)
        // Truncate one file, and ask for one histogram no file has.
        let victim = (data as NSString).appendingPathComponent(dataset.runs[2].fileName)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        try bytes.prefix(300).write(to: URL(fileURLWithPath: victim))
        let absent = DQMHistogramPath(subsystem: "Tracking", entry: "/Run summary/Nowhere/h")
        let contents = DQMContents(histograms: Array(dataset.contents.histograms.prefix(3)) + [absent])
        let outcome = try #require(try DQMFetch.fetch(contents: contents, datasets: dataset.datasets,
                                                      files: DQMInputDiscovery.rootFiles(in: [data]), quiet: true).first)
        #expect(outcome.runsRead == 5)
        #expect(outcome.skippedFiles.count == 1 && outcome.skippedFiles[0].path == victim)
        #expect(outcome.incompleteRuns.count == 5 && outcome.incompleteRuns.allSatisfy { $0.problems.map(\.column) == [absent.columnName] })
        let column = try outcome.table.column(absent.columnName)
        #expect(column.nullCount == 5)
        #expect(!(try DQMTable.runNumbers(outcome.table)).contains(dataset.runs[2].run))
    }

    @Test func trainAndAssessEveryAlgorithm() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (dataset, parquet) = try Self.fetchedDataset(runs: 60, in: directory)
        let output = directory.appendingPathComponent("trained").path
        let histograms = dataset.contents.histograms.filter { ["Tracking", "DT"].contains($0.subsystem) }.map(\.columnName)
        var logs: [String] = []

        var pca = DQMTrainingConfiguration(algorithm: .pca)
        pca.tag = "pca"
        pca.outputDirectory = output
        pca.histograms = histograms
        pca.seed = 3
        pca.quiet = true
        let first = try DQMTraining.run(inputFile: parquet, configuration: pca) { logs.append($0) }
        #expect(first.modelFiles.count == histograms.count && first.loadedModels.isEmpty)
        let trained = first.outputPath
        // A second run finds the models and loads them: same scores, a warning per model.
        let again = try DQMTraining.run(inputFile: trained, configuration: pca) { logs.append($0) }
        #expect(again.loadedModels.count == histograms.count)
        #expect(logs.filter { $0.contains("loading it instead of retraining") }.count == histograms.count)
        let name = histograms[0]
        #expect(try DQMTable.scores(again.table, "\(name)_score_pca") == DQMTable.scores(first.table, "\(name)_score_pca"))

        var autoencoder = DQMTrainingConfiguration(algorithm: .autoencoder)
        autoencoder.tag = "ae"
        autoencoder.outputDirectory = output
        autoencoder.histograms = Array(histograms.prefix(3))
        autoencoder.autoencoderMode = .simultaneous
        autoencoder.autoencoderOptions.epochs = 30
        autoencoder.rebinMinimumOccupancy = 0.0033
        autoencoder.seed = 3
        autoencoder.quiet = true
        let ae = try DQMTraining.run(inputFile: trained, configuration: autoencoder) { logs.append($0) }
        #expect(ae.modelFiles == [directory.appendingPathComponent("trained/autoencoder_ae").path])
        let run = RunDirectory(ae.modelFiles[0])
        #expect(try run.spec().inputs.map(\.name) == autoencoder.histograms.map(DQMTraining.sanitizedName))
        #expect(try SafeTensors.read(run.weightsFile, as: Float.self).tensors.keys.contains { $0.hasPrefix("bottleneck.") })

        var tester = DQMTrainingConfiguration(algorithm: .statisticalTester)
        tester.tag = "bb"
        tester.outputDirectory = output
        tester.histograms = histograms
        tester.statistic = .betaBinomialChi2
        let table = try Parquet.read(path: trained)
        let roles = try DQMTable.integers(table, DQMTable.splitColumn)
        tester.references = Array(zip(try DQMTable.runNumbers(table), roles).filter { $0.1 == 0 }.map(\.0).prefix(2))
        _ = try DQMTraining.run(inputFile: trained, configuration: tester) { logs.append($0) }

        let final = try Parquet.read(path: trained)
        #expect(final.schema.first { $0.name == "\(name)_score_pca" }?.type == .float64)
        #expect(final.schema.first { $0.name == "\(name)_reco_pca" }?.type.listDepth == 1)
        #expect(final[DQMTable.recoColumn(name, tag: "bb")] == nil)

        var assessment = DQMAssessmentConfiguration()
        assessment.resamples = 20
        let (index, summaries, _) = try DQMAssessment.assess(inputFile: trained, outputDirectory: directory.appendingPathComponent("report").path,
                                                          configuration: assessment)
        #expect(summaries.map(\.tag) == ["pca", "ae", "bb"])
        let pcaAUC = try #require(summaries.first?.runLevelAUC[1])
        #expect(pcaAUC > 0.8, "PCA run-level AUC \(pcaAUC)")
        let html = try String(contentsOfFile: index, encoding: .utf8)
        #expect(html.contains("run_level_comparison") && html.contains("Most-flagged runs"))
        #expect(DQMAssessment.summaryTable(summaries).contains("pca"))
        // assessment_stats.parquet / assessment.json: one row per histogram and algorithm, with
        // the flag for bad runs scoring lower than good ones (also a warning line in the summary).
        let rows = summaries.flatMap(\.histograms)
        let statistics = try DQMAssessment.writeStatistics(summaries, to: directory.appendingPathComponent("report").path)
        let stats = try Parquet.read(path: statistics.parquet)
        #expect(stats.columnNames == ["hist", "dim_0", "dim_1", "algo", "avg_an_score", "std_an_score", "auc", "auc_uncertainty", "bad_runs_score_lower"])
        let hist = try stats.column("hist"), algo = try stats.column("algo")
        #expect(rows.indices.map { hist[$0] } == rows.map { .string($0.histogram) } && rows.indices.map { algo[$0] } == rows.map { .string($0.tag) })
        #expect(stats["bad_runs_score_lower"]?.boolValues == rows.map { $0.auc < 0.5 })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statistics.json))) as? [String: Any])
        let entries = try #require(document["histograms"] as? [[String: Any]])
        #expect(entries.count == rows.count && entries.map { $0["bad_runs_score_lower"] as? Bool } == rows.map { $0.auc < 0.5 })
        let warnings = DQMAssessment.summaryTable(summaries).split(separator: "\n").filter { $0.hasPrefix("warning:") }
        #expect(warnings.count == rows.filter(\.badRunsScoreLower).count)
        let detection = try dataset.detectionByAnomaly(table: final)
        #expect(!detection.isEmpty)
        #expect(detection.allSatisfy { $0.runs > 0 && Set($0.auc.keys) == ["pca", "ae", "bb"] && $0.auc.values.allSatisfy { (0...1).contains($0) } })
        #expect(DQMAssessment.detectionTable(detection, tags: ["pca", "ae", "bb"]).contains(detection[0].anomaly))
    }

    /// `hepml bench dqm`'s input: the ROOT benchmark's DQM-style files as the runs of one
    /// dataset, fetched completely, and the manifest bench/autodqm_reference.py reads.
    @Test func benchmarkInputFetchesEveryHistogram() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try DQMBenchmarkInput.write(in: directory.path, files: 2, histograms: 20)
        #expect(input.runFiles.map(\.run) == [1000, 1001] && input.histograms.count == 20)
        let reads = input.runFiles.map { DQMFetch.read(path: $0.path, run: $0.run, histograms: input.histograms) }
        let outcome = try DQMFetch.outcome(primaryDataset: DQMBenchmarkInput.primaryDataset, histograms: input.histograms,
                                           files: input.runFiles, reads: reads)
        #expect(outcome.runsRead == 2 && outcome.incompleteRuns.isEmpty && outcome.table.columns.count == 23)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: input.manifestPath))) as? [String: Any])
        #expect(manifest["runs"] as? [Int] == [1000, 1001])
        #expect((manifest["histograms"] as? [String])?.first == "Hcal//Run summary/Folder0/h0")
    }

    /// A 3-epoch autoencoder of one 1-D histogram (the segment timing), trained by `dqm train`.
    static func trainedTimingAutoencoder(in directory: URL) throws -> (DQMTrainingConfiguration, String, DQMTrainingResult) {
        let (dataset, parquet) = try Self.fetchedDataset(runs: 24, in: directory)
        var configuration = DQMTrainingConfiguration(algorithm: .autoencoder)
        configuration.histograms = [try #require(dataset.contents.histograms.first { $0.entry.hasSuffix("SegmentTiming") }).columnName]
        configuration.outputDirectory = directory.appendingPathComponent("trained").path
        configuration.autoencoderOptions.epochs = 3
        configuration.quiet = true
        return (configuration, parquet, try DQMTraining.run(inputFile: parquet, configuration: configuration) { _ in })
    }

    /// A trained autoencoder is a run directory: its model.json rebuilds the network that was
    /// trained (one input and output per histogram) and its weights load into it; asking for
    /// the same run with other options is refused by name, and a corrupt weights file is a
    /// `FileFormatError`, never a crash.
    @Test func autoencoderRunDirectoryRoundTrip() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-run")
        defer { try? FileManager.default.removeItem(at: directory) }
        var (configuration, parquet, first) = try Self.trainedTimingAutoencoder(in: directory)
        let run = RunDirectory(try #require(first.modelFiles.first))
        let model = try run.loadModel()
        #expect(model.inputNames == [DQMTraining.sanitizedName(configuration.histograms[0])])
        #expect(model.spec == (try AutoencoderArchitecture(branches: [.init(name: model.inputNames[0], shape: [50])])).spec)
        let again = try DQMTraining.run(inputFile: first.outputPath, configuration: configuration) { _ in }
        #expect(again.loadedModels == [run.path])
        let score = DQMTable.scoreColumn(configuration.histograms[0], tag: configuration.tag)
        #expect(try DQMTable.scores(again.table, score) == DQMTable.scores(first.table, score))
        configuration.autoencoderOptions.components = 4
        #expect(throws: RunDirectoryError.self) { try DQMTraining.run(inputFile: parquet, configuration: configuration) { _ in } }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: run.weightsFile)))
        bytes[0] = 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: run.weightsFile))
        #expect(throws: FileFormatError.self) { try run.loadModel() }
    }

    /// Python's `safetensors` reads an autoencoder file written by `hepml dqm train` with the
    /// parameter-path names, shapes and values the network holds.
    @Test(.requiresPython) func pythonSafetensorsReadsTheAutoencoder() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("dqm-ae-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, _, result) = try Self.trainedTimingAutoencoder(in: directory)
        let run = RunDirectory(try #require(result.modelFiles.first))
        let path = run.weightsFile
        let network = try run.loadModel()
        var expected: [String: Any] = [:]
        for (name, tensor) in network.stateDictionary() { expected[name] = ["shape": tensor.shape, "values": tensor.scalars.map(Double.init)] }
        let expectedPath = directory.appendingPathComponent("expected.json").path
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: expectedPath))
        let script = """
        import json, sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1]); expected = json.load(open(sys.argv[2]))
        assert sorted(tensors) == sorted(expected), (sorted(tensors), sorted(expected))
        for name, entry in expected.items():
            assert tensors[name].dtype == np.float32 and list(tensors[name].shape) == entry["shape"], name
            assert np.array_equal(tensors[name].ravel(), np.array(entry["values"], dtype=np.float32)), name
        assert "bottleneck.0.weight" in tensors and tensors["bottleneck.0.weight"].shape[0] == 50
        with safe_open(sys.argv[1], framework="numpy") as f:
            meta = f.metadata()
        assert meta["producer"] == "hepml" and meta["model"] == "autodqm-autoencoder", meta
        print("ok")
        """
        let output = try TestEnvironment.runPython(python, script: script, arguments: [path, expectedPath])
        #expect(output.status == 0, "\(output.output)")
    }

    /// scikit-learn loads a PCA model JSON that the `hepml dqm train` command wrote and
    /// reproduces the `_reco_` and `_score_` columns of the Parquet file it wrote next to it.
    @Test(.requiresPython) func scikitLearnReproducesTheTrainCommandsReconstructions() throws {
        let python = try TestEnvironment.python()
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("dqm-pca-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (dataset, parquet) = try Self.fetchedDataset(runs: 24, in: directory)
        let histograms = dataset.contents.histograms.filter { $0.subsystem == "DT" }.map(\.columnName)
        let output = directory.appendingPathComponent("trained").path
        let train = try TestEnvironment.run(hepml, ["dqm", "train", "--algorithm", "pca", "--input-file", parquet, "--output-dir", output,
                                                    "--tag", "p", "--histograms", histograms.joined(separator: ","), "--quiet"])
        #expect(train.status == 0, "\(train.output)")
        let script = """
        import json, sys, numpy as np, pyarrow.parquet as pq
        from sklearn.decomposition import PCA
        table, models = pq.read_table(sys.argv[1]), sys.argv[2:]
        def rows(column):
            return np.array([np.asarray(value, dtype=np.float64).ravel() for value in table.column(column).to_pylist()])
        for hist, path in zip(models[0::2], models[1::2]):
            attributes = json.load(open(path))
            pca = PCA(random_state=0)
            for key, value in attributes.items():
                if key.endswith("_"):
                    setattr(pca, key, np.array(value) if isinstance(value, list) else value)
            raw = rows(hist)
            x = raw / raw.sum(axis=1, keepdims=True)
            reco = pca.inverse_transform(pca.transform(x))
            stored = rows(hist + "_reco_p")
            assert np.allclose(reco, stored, rtol=1e-9, atol=1e-12), (hist, np.abs(reco - stored).max())
            sse = ((x - reco) ** 2).sum(axis=1)
            assert np.allclose(sse, table.column(hist + "_score_p").to_numpy(), rtol=1e-9, atol=1e-15), hist
        print("ok")
        """
        var arguments = [(output as NSString).appendingPathComponent("ZeroBias.parquet")]
        for histogram in histograms {
            arguments += [histogram, DQMTraining.pcaModelPath(directory: output, histogram: histogram, tag: "p")]
        }
        let result = try TestEnvironment.runPython(python, script: script, arguments: arguments)
        #expect(result.status == 0, "\(result.output)")
    }

    /// pandas and awkward read the fetched and trained tables with AutoDQM_ML's names and types
    /// (nullability aside: `option[var * ?float32]` holds the same values as `var * float32`).
    @Test(.requiresPython) func pandasAndAwkwardReadTheTables() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("dqm-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (dataset, parquet) = try Self.fetchedDataset(runs: 20, in: directory)
        let fetchedCopy = directory.appendingPathComponent("fetched.parquet").path
        try FileManager.default.copyItem(atPath: parquet, toPath: fetchedCopy)
        let histograms = dataset.contents.histograms.filter { $0.subsystem == "DT" }.map(\.columnName)
        var pca = DQMTrainingConfiguration(algorithm: .pca)
        pca.tag = "p"
        pca.histograms = histograms
        pca.outputDirectory = directory.appendingPathComponent("trained").path
        pca.quiet = true
        let trained = try DQMTraining.run(inputFile: parquet, configuration: pca) { _ in }
        let script = """
        import sys, pandas as pd, awkward as ak, numpy as np
        fetched, trained, hist1d, hist2d = sys.argv[1:5]
        def kind(array):
            return str(ak.type(array)).replace("?", "").replace("option[", "").rstrip("]")
        for path in (fetched, trained):
            df = pd.read_parquet(path)
            assert df["run_number"].dtype == np.int64 and df["label"].dtype == np.int64, df.dtypes
            assert isinstance(df["year"].iloc[0], str) and df["year"].iloc[0] == "2022"
            arr = ak.from_parquet(path)
            assert kind(arr[hist1d]).endswith("var * float32"), ak.type(arr[hist1d])
            assert kind(arr[hist2d]).endswith("var * var * float32"), ak.type(arr[hist2d])
            assert ak.num(arr[hist2d], axis=1)[0] == 5 and ak.num(arr[hist2d], axis=2)[0][0] == 12
        cols = list(pd.read_parquet(fetched).columns)
        assert cols[-3:] == ["run_number", "year", "label"], cols
        arr = ak.from_parquet(trained)
        assert kind(arr[hist1d + "_score_p"]).endswith("float64")
        assert kind(arr[hist1d + "_reco_p"]).endswith("var * float64")
        assert kind(arr[hist2d + "_reco_p"]).endswith("var * var * float64")
        assert set(np.unique(ak.to_numpy(arr["train_label"]))) <= {-2, -1, 0, 1}  # -2: below the low-statistics cut
        print("ok")
        """
        let oneD = try #require(histograms.first { !$0.contains("Occupancy") })
        let twoD = try #require(histograms.first { $0.contains("Occupancy") })
        let result = try TestEnvironment.runPython(python, script: script, arguments: [fetchedCopy, trained.outputPath, oneD, twoD])
        #expect(result.status == 0, "\(result.output)")
    }
}
