// The read-only HTML page `links.incident` opens: the incident and its timeline, every value escaped, no script
// (the Content-Security-Policy forbids any), so a title or note written by an attacker stays text.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import NIOCore

/// Renders `GET /incidents/{id}`.
enum IncidentPage {
    static func response(for incident: Incident) -> Response {
        let headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html(incident))))
    }

    static func html(_ incident: Incident) -> String {
        func row(_ name: String, _ value: String) -> String {
            "<tr><th>\(escape(name))</th><td>\(escape(value))</td></tr>"
        }
        let time = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(incident.id.description)) \
            \(escape(incident.title))</title>
            <style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em;vertical-align:top}\
            td,th{border-bottom:1px solid #ddd;padding:.2em}</style></head><body>
            <h1>\(escape(incident.id.description)): \(escape(incident.title))</h1>
            <table>
            """
        page += row("Status", incident.status.rawValue)
        page += row("Priority", incident.priority.description)
        page += row("Severity", incident.severity.rawValue)
        page += row("Source", incident.source)
        page += row("Event", incident.eventID)
        page += row("Category", incident.category)
        page += row("Team", incident.assignedTeam)
        page += row("Escalation policy", incident.escalationPolicy)
        page += row("Events", String(incident.eventCount))
        page += row("Created", time.format(incident.createdAt))
        page += row("Version", String(incident.version))
        page += "</table>\n<h2>Description</h2>\n<p>\(escape(incident.description))</p>\n<h2>Timeline</h2>\n<table>\n"
        page += "<tr><th>When</th><th>Who</th><th>What</th><th>Message</th></tr>\n"
        for entry in incident.timeline {
            page += "<tr><td>\(escape(time.format(entry.at)))</td><td>\(escape(entry.actor))</td>"
                + "<td>\(escape(entry.kind))</td><td>\(escape(entry.message))</td></tr>\n"
        }
        page += "</table>\n</body></html>\n"
        return page
    }

    /// HTML text and attribute escaping.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
