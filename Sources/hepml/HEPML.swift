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
            HCALCommand.self,
            RootCommand.self,
            TableCommand.self,
            PlotCommand.self,
            TrainExampleCommand.self,
            BenchCommand.self,
            VersionCommand.self,
        ]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the HEPML version and the worker thread count.")
    func run() {
        print("hepml \(HEPML.configuration.version) (\(Parallel.threadCount) threads)")
    }
}
