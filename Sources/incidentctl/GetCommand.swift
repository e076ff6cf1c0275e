// `incidentctl get ID`: one incident, as a key/value block with its timeline or as proto3 JSON.
import ArgumentParser
import IncidentAPI

/// Reads one incident.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one incident.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The incident.", valueName: "INC-YYYYMMDD-NNNNN"))
    var id: String

    @Flag(name: .long, help: "Print the incident as one proto3 JSON object.")
    var json = false

    func run() async throws {
        try await CommandRunner.run(server: connection.serverForMessages, incidentID: id) {
            let profile = try connection.profile()
            var request = GetIncidentRequest()
            request.incidentId = id
            let incident = try await profile.client().getIncident(request, options: profile.callOptions())
            if json { Output.json(incident) } else { Output.line(IncidentFormatting.block(incident)) }
        }
    }
}
