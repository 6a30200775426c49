import ArgumentParser
import HEPMLCore

@main
struct HEPML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hepml",
        abstract: "Machine learning on particle-physics detector data: ROOT in, models and reports out.",
        version: "0.1.0",
        subcommands: [
            DemoCommand.self,
            DQMCommand.self,
            ECONTCommand.self,
            LDMXCommand.self,
            CompressCommand.self,
            HCALCommand.self,
            RootCommand.self,
            TableCommand.self,
            PlotCommand.self,
            TrainExampleCommand.self,
            BatchCommand.self,
            BenchCommand.self,
            VersionCommand.self,
        ]
    )

    /// Arguments through `RawPath`, so that file names that are not UTF-8 open.
    static func main() {
        main(Array(RawPath.arguments.dropFirst()))
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the HEPML version and the worker thread count.")
    func run() {
        print("hepml \(HEPML.configuration.version) (\(Parallel.threadCount) threads)")
    }
}
