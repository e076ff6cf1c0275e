// How incidents look on a terminal: a key/value block for one, a table for many, a line per streamed change.
import Foundation
import IncidentAPI
import ProtoWire

/// Renders API messages for people; `--json` output uses ProtoWire's proto3 JSON writer instead.
enum IncidentFormatting {
    /// Every field a person reading one incident wants, aligned; empty fields are left out.
    static func block(_ incident: Incident) -> String {
        var rows: [(String, String)] = [
            ("id", incident.id), ("title", incident.title), ("status", incident.status),
            ("severity", incident.severity), ("event severity", incident.eventSeverity), ("team", incident.assignedTeam),
            ("escalation", incident.escalationPolicy), ("category", incident.category),
            ("event type", incident.eventType), ("source", incident.source), ("event id", incident.eventId),
            ("events", String(incident.eventCount)), ("created", incident.createdAt), ("updated", incident.updatedAt),
            ("acknowledged", incident.acknowledgedAt), ("resolved", incident.resolvedAt),
            ("version", String(incident.version)), ("position", String(incident.position)),
            ("description", incident.description),
        ]
        if let resource = incident.resource {
            let name = resource.name.isEmpty ? "" : " (\(resource.name))"
            rows.append(("resource", "\(resource.type) \(resource.id)\(name)"))
            rows.append(contentsOf: resource.metadata.sorted { $0.key < $1.key }.map { ("  \($0.key)", $0.value) })
        }
        rows.append(contentsOf: incident.tags.sorted { $0.key < $1.key }.map { ("tag \($0.key)", $0.value) })
        rows.append(contentsOf: incident.metrics.sorted { $0.key < $1.key }
            .map { ("metric \($0.key)", "\($0.value)") })
        if !incident.encryptedPayload.isEmpty {
            rows.append(("payload", "\(incident.encryptedPayload.count) encrypted bytes (not shown; --json has them)"))
        }
        for action in incident.actions {
            let name = action.state.protoName ?? "\(action.state.rawValue)"
            let state = name.replacingOccurrences(of: "ACTION_STATE_", with: "").lowercased()
            rows.append(("action \(action.id)", "\(action.type) \(state)"
                         + (action.reason.isEmpty ? "" : ": \(action.reason)")))
        }
        let width = rows.map(\.0.count).max() ?? 0
        var lines = rows.filter { !$0.1.isEmpty }.map { pad($0.0 + ":", width + 1) + " " + oneLine($0.1) }
        if !incident.timeline.isEmpty {
            lines.append("timeline:")
            for entry in incident.timeline {
                lines.append("  \(entry.at)  \(entry.actor)  \(entry.kind)"
                             + (entry.message.isEmpty ? "" : "  \(oneLine(entry.message))"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The columns of `list`.
    static let tableHeader = ["ID", "STATUS", "SEVERITY", "EVENT", "TEAM", "CREATED", "TITLE"]

    /// The cells of one row of `list`.
    static func tableRow(_ incident: Incident) -> [String] {
        [incident.id, incident.status, incident.severity, orDash(incident.eventSeverity), orDash(incident.assignedTeam),
         incident.createdAt, oneLine(incident.title)]
    }

    /// Rows aligned in columns; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in index == columns - 1 ? cell : pad(cell, widths[index]) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// One streamed change on one line: where it is in the change log and the incident as it now stands.
    static func changeLine(_ incident: Incident) -> String {
        let columns = [pad("#\(incident.position)", 8), pad(incident.updatedAt, 24), pad(incident.id, 18),
                       pad(incident.status, 12), pad(incident.severity, 3), pad(incident.eventSeverity, 8),
                       pad(orDash(incident.assignedTeam), 14), "v\(incident.version)", oneLine(incident.title)]
        return columns.joined(separator: " ")
    }

    /// What a create answered, for people: the incident, and whether the event was new to it.
    static func created(_ response: CreateIncidentResponse) -> String {
        let verb = response.duplicate ? "duplicate of" : "created"
        var line = "\(verb) \(response.incidentId) (severity \(response.priority), version \(response.version))"
        if response.duplicate { line += ": the event was already recorded and is counted on it" }
        if let link = response.links["incident"] { line += "\n  \(link)" }
        return line
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func orDash(_ text: String) -> String { text.isEmpty ? "-" : text }

    /// Newlines and tabs in user text would break the table; they are shown as spaces.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}

/// Writes results to stdout a line at a time, so `watch` output reaches a pipe as it happens.
enum Output {
    static func line(_ text: String) {
        // Unbuffered: print() would hold lines back while stdout is a pipe.
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// One message as a proto3 JSON object on one line.
    static func json<M: ProtoMessage>(_ message: M) {
        line(message.jsonString())
    }
}
