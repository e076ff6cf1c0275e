// `incidentctl list`: incidents newest first, one page or (--all) every page, as a table or JSON lines.
import ArgumentParser
import IncidentAPI

/// Lists incidents with the filters ListIncidents takes.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List incidents, newest first.",
        discussion: """
        Without --all one page is printed; when more follow, the next page's token is written to stderr as \
        `next page: --page-token TOKEN` (quoted for the shell). --json prints one incident per line.
        """
    )

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var filters: IncidentFilterOptions
    @Option(name: .long, help: "Only incidents assigned to this team.")
    var team: String?
    @Option(name: .customLong("created-after"), help: "Only incidents created after this RFC 3339 time.")
    var createdAfter: String?
    @Option(name: .customLong("created-before"), help: "Only incidents created before this RFC 3339 time.")
    var createdBefore: String?
    @Option(name: .customLong("page-size"), help: "Incidents per page (the server caps it).")
    var pageSize: UInt32?
    @Option(name: .customLong("page-token"), help: "Start at the page this token names.")
    var pageToken: String?
    @Flag(name: .long, help: "Follow every page to the end.")
    var all = false
    @Flag(name: .long, help: "Print one proto3 JSON object per incident.")
    var json = false

    func run() async throws {
        try await CommandRunner.run(server: connection.serverForMessages) {
            let profile = try connection.profile()
            let client = try profile.client()
            var request = ListIncidentsRequest()
            request.severities = filters.severity
            request.statuses = filters.status
            request.categories = filters.category
            request.assignedTeam = team ?? ""
            request.createdAfter = createdAfter ?? ""
            request.createdBefore = createdBefore ?? ""
            request.pageSize = pageSize ?? 0
            request.pageToken = pageToken ?? ""
            var printedHeader = false
            while true {
                let page = try await client.listIncidents(request, options: profile.callOptions())
                if json {
                    for incident in page.incidents { Output.json(incident) }
                } else if !page.incidents.isEmpty {
                    var rows = page.incidents.map(IncidentFormatting.tableRow)
                    if !printedHeader { rows.insert(IncidentFormatting.tableHeader, at: 0) }
                    printedHeader = true
                    Output.line(IncidentFormatting.table(rows))
                }
                if page.nextPageToken.isEmpty { break }
                if !all {
                    printError("next page: --page-token \(Self.shellQuoted(page.nextPageToken))")
                    break
                }
                request.pageToken = page.nextPageToken
            }
            if !json && !printedHeader { printError("no incidents match") }
        }
    }

    /// The token as one shell word, so it can be pasted back as it is printed.
    static func shellQuoted(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "-_.:=+/,@".contains($0) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
