import ArgumentParser
import Foundation

/// `hepml bench <area>`: speed benchmarks run side by side with a Python peer script under bench/.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (compare with the peer scripts in bench/).",
        subcommands: [BenchEngineCommand.self, BenchROOT.self, ColumnarBenchCommand.self, BenchDQM.self, BenchLDMXImages.self, BenchHCAL.self, BenchHCALScoring.self, BenchHCALServe.self, BenchCompressTrain.self, BenchCompressCodec.self]
    )
}

/// Runs a bench/ peer script with `python` and returns what it printed on standard output.
func runPeerScript(python: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return output
}
