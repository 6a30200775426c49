import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that run beside a Python peer script in bench/.",
        subcommands: [ColumnarBenchCommand.self]
    )
}
