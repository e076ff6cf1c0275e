// incidentctl: the security team's command line for incident-manager.
import ArgumentParser

@main
struct IncidentCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidentctl",
        abstract: "Read, update and follow incidents; check rule changes before they ship.",
        subcommands: [Rules.self]
    )
}

/// Exit codes scripts can rely on.
enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let config: Int32 = 78
}
