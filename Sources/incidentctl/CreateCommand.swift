// `incidentctl create`: reports a security event, from flags or from a proto3 JSON file.
import ArgumentParser
import Foundation
import IncidentAPI

/// Sends one CreateIncident; a replay of a known event is reported as a duplicate, not an error.
struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Report a security event (a new incident, or a duplicate of the one it repeats).",
        discussion: """
        With --file the event is read as proto3 JSON (like Protos/examples/shield-event.json; `-` reads stdin); \
        flags given beside it override its fields. Without --file, --severity and --title are required; \
        --event-id defaults to a fresh `manual-<uuid>`, --source to `incidentctl`, --timestamp to now.
        """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Read the event from a JSON file (`-` for stdin).", valueName: "file"))
    var file: String?

    @Option(name: .customLong("event-id"), help: "The detector's id for the event (dedup key with --source).")
    var eventID: String?
    @Option(name: .long, help: "Who detected it.")
    var source: String?
    @Option(name: .customLong("source-version"), help: "The detector's version.")
    var sourceVersion: String?
    @Option(name: .long, help: "When it happened (RFC 3339).")
    var timestamp: String?
    @Option(name: .long, help: "critical, high, medium, low or info, or a level P0 … P4.")
    var severity: String?
    @Option(name: .long, help: "One line saying what happened.")
    var title: String?
    @Option(name: .long, help: "More detail.")
    var description: String?
    @Option(name: .long, help: "security, privacy, compliance, ...")
    var category: String?
    @Option(name: .customLong("event-type"), help: "violation, prompt_injection, data_leak, ...")
    var eventType: String?
    @Option(name: .long, help: ArgumentHelp("A tag (repeatable).", valueName: "key=value"))
    var tag: [String] = []
    @Option(name: .long, help: ArgumentHelp("A numeric metric (repeatable).", valueName: "key=number"))
    var metric: [String] = []
    @Option(name: .customLong("resource-type"), help: "The kind of thing it concerns (model, deployment, ...).")
    var resourceType: String?
    @Option(name: .customLong("resource-id"), help: "The id of the thing it concerns.")
    var resourceID: String?
    @Option(name: .customLong("resource-name"), help: "Its readable name.")
    var resourceName: String?

    @Flag(name: .long, help: "Print the answer as one proto3 JSON object.")
    var json = false

    func validate() throws {
        if file == nil {
            guard severity != nil, title != nil else {
                throw ValidationError("without --file, --severity and --title are required")
            }
        }
    }

    func run() async throws {
        try await CommandRunner.run(server: connection.serverForMessages) {
            let request = try makeRequest()
            let profile = try connection.profile()
            let response = try await profile.client().createIncident(request, options: profile.callOptions())
            if json { Output.json(response) } else { Output.line(IncidentFormatting.created(response)) }
        }
    }

    func makeRequest() throws(CLIFailure) -> CreateIncidentRequest {
        var request = try file.map { path throws(CLIFailure) in try EventInput.read(path) } ?? CreateIncidentRequest()
        if file == nil {
            request.eventId = "manual-" + UUID().uuidString.lowercased()
            request.source = "incidentctl"
            request.timestamp = EventInput.now()
        }
        if let eventID { request.eventId = eventID }
        if let source { request.source = source }
        if let sourceVersion { request.sourceVersion = sourceVersion }
        if let timestamp { request.timestamp = timestamp }
        if let severity { request.severity = severity }
        if let title { request.title = title }
        if let description { request.description = description }
        if let category { request.category = category }
        if let eventType { request.eventType = eventType }
        for (key, value) in try EventInput.pairs(tag, flag: "--tag") { request.tags[key] = value }
        for (key, text) in try EventInput.pairs(metric, flag: "--metric") {
            guard let number = Double(text), number.isFinite else {
                throw CLIFailure("--metric \(key)=\(text): not a number", exitCode: ExitStatus.usage)
            }
            request.metrics[key] = number
        }
        if resourceType != nil || resourceID != nil || resourceName != nil {
            var resource = request.resource ?? Resource()
            if let resourceType { resource.type = resourceType }
            if let resourceID { resource.id = resourceID }
            if let resourceName { resource.name = resourceName }
            request.resource = resource
        }
        return request
    }
}
