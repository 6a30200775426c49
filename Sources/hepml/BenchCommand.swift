import ArgumentParser

/// `hepml bench <area>`: speed benchmarks run side by side with a Python peer script under bench/.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (compare with the peer scripts in bench/).",
        subcommands: [BenchEngineCommand.self, BenchROOT.self, ColumnarBenchCommand.self, BenchDQM.self, BenchHCAL.self]
    )
}
