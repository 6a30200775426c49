import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "placeholder")
}

struct DQMAssessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assess", abstract: "placeholder")
}
