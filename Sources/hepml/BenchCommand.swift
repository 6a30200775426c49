import ArgumentParser

/// `hepml bench <area>`: throughput benchmarks compared against peer tools by scripts in bench/.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a performance benchmark (compare with the peer scripts under bench/).",
        subcommands: [BenchEngineCommand.self])
}
