// `incidentctl update`, `ack` and `resolve`: UpdateIncident with what the user set, nothing else.
import ArgumentParser
import IncidentAPI

/// The flags `ack` and `resolve` share with `update`: the incident, a note, the version read, the output.
struct UpdateTarget: ParsableArguments {
    @Argument(help: ArgumentHelp("The incident.", valueName: "INC-YYYYMMDD-NNNNN"))
    var id: String

    @Option(name: .long, help: "A note for the incident's timeline.")
    var note: String?

    @Option(name: .customLong("expected-version"),
            help: "Fail (exit 75) unless the incident is still at this version, as read by `get`.")
    var expectedVersion: UInt64?

    @Flag(name: .long, help: "Print the updated incident as one proto3 JSON object.")
    var json = false

    /// Sends the update and prints the incident it produced.
    func send(_ request: UpdateIncidentRequest, connection: ConnectionOptions) async throws {
        var request = request
        request.incidentId = id
        if let note { request.note = note }
        if let expectedVersion { request.expectedVersion = expectedVersion }
        try await CommandRunner.run(server: connection.serverForMessages, incidentID: id) {
            let profile = try connection.profile()
            let incident = try await profile.client().updateIncident(request, options: profile.callOptions())
            if json {
                Output.json(incident)
            } else {
                let team = incident.assignedTeam.isEmpty ? "-" : incident.assignedTeam
                Output.line("\(incident.id) is \(incident.status), severity \(incident.severity), team \(team) "
                            + "(version \(incident.version))")
            }
        }
    }
}

/// Changes status, severity, team, and/or adds a note.
struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change an incident's status, severity or team, or add a note.",
        discussion: """
        Statuses move NEW → ACKNOWLEDGED → IN_PROGRESS → RESOLVED → CLOSED, one step at a time; RESOLVED → \
        IN_PROGRESS reopens. Other moves exit with 81. With --expected-version the update is refused (exit 75) \
        when someone changed the incident since you read it.
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: UpdateTarget

    @Option(name: .long, help: "new, acknowledged, in_progress, resolved or closed.")
    var status: String?
    @Option(name: .long, help: "A level P0 … P4, or an event word critical … info (re-mapped to a level).")
    var severity: String?
    @Option(name: .long, help: "The team to assign it to.")
    var team: String?

    func validate() throws {
        guard status != nil || severity != nil || team != nil || target.note != nil else {
            throw ValidationError("nothing to change: give --status, --severity, --team or --note")
        }
    }

    func run() async throws {
        var request = UpdateIncidentRequest()
        request.status = status
        request.severity = severity
        request.assignedTeam = team
        try await target.send(request, connection: connection)
    }
}

/// NEW → ACKNOWLEDGED.
struct AckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack", abstract: "Acknowledge an incident (NEW → ACKNOWLEDGED).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: UpdateTarget

    func run() async throws {
        var request = UpdateIncidentRequest()
        request.status = "ACKNOWLEDGED"
        try await target.send(request, connection: connection)
    }
}

/// IN_PROGRESS → RESOLVED.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Resolve an incident (IN_PROGRESS → RESOLVED).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: UpdateTarget

    func run() async throws {
        var request = UpdateIncidentRequest()
        request.status = "RESOLVED"
        try await target.send(request, connection: connection)
    }
}
