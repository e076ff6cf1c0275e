// `POST /api/v1/tickets/upload-csv`: a CSV file (`text/csv`, or the `file` part of multipart/form-data) with the
// columns title,description,severity,environment,service,source. Each row is one event through the intake; its
// event_id is a hash of the row's content, so uploading the same file again creates nothing new. The answer lists
// every row: created, duplicate, or rejected with its line number and why; good rows go in even when others are
// bad, and a row is taken whole or not at all.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import MultipartKit
import NIOCore
import ProtoWire

/// Imports a CSV of tickets as events, row by row.
struct CSVUploadRoute: Sendable {
    let intake: IncidentIntake
    let maxBodyBytes: Int
    let log: ServerLog
    /// The header row, in this order.
    static let columns = ["title", "description", "severity", "environment", "service", "source"]
    /// Most rows in one upload.
    static let maxRows = 10_000

    func add(to router: Router<DoorContext>) {
        router.post("/api/v1/tickets/upload-csv") { request, context in
            let identity = try await intake.caller(of: request, context: context)
            // Checked before reading the body, so a caller who may not create learns it at once.
            try intake.authorizer.authorize(identity, for: .eventCreate)
            let body = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
            let text = try Self.csvText(body, contentType: request.headers[.contentType] ?? "")
            let rows = try CSVTable.parse(text, maxRows: Self.maxRows)
            guard let header = rows.first, header.fields.map({ $0.lowercased() }) == Self.columns else {
                throw DoorError.badRequest("line 1: the header must be \(Self.columns.joined(separator: ","))")
            }
            var writer = JSONWriter()
            writer.beginObject()
            writer.writeName("rows")
            writer.beginArray()
            var counts = ["created": 0, "duplicate": 0, "rejected": 0]
            for row in rows.dropFirst() {
                let (state, detail) = await importRow(row, identity: identity)
                counts[state, default: 0] += 1
                writer.beginObject()
                writer.writeName("line")
                writer.writeNumber(String(row.line))
                writer.writeName("status")
                writer.writeString(state)
                writer.writeName(state == "rejected" ? "reason" : "incident_id")
                writer.writeString(detail)
                writer.endObject()
            }
            writer.endArray()
            for key in ["created", "duplicate", "rejected"] {
                writer.writeName(key)
                writer.writeNumber(String(counts[key] ?? 0))
            }
            writer.endObject()
            return IncidentRoutes.json(.ok, writer.result)
        }
    }

    /// One row through the intake: ("created" | "duplicate", incident id) or ("rejected", reason).
    private func importRow(_ row: CSVTable.Row, identity: IdentityPolicy) async -> (String, String) {
        guard row.fields.count == Self.columns.count else {
            return ("rejected", "has \(row.fields.count) fields; expected \(Self.columns.count)")
        }
        let value = Dictionary(uniqueKeysWithValues: zip(Self.columns, row.fields))
        // The row's own content names it: the same row uploaded again is the same event.
        let digest = Digest.sha256(Array(row.fields.joined(separator: "\u{1F}").utf8))
        let eventID = "csv-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
        var tags: [String: String] = [:]
        if let environment = value["environment"], !environment.isEmpty { tags["environment"] = environment }
        if let service = value["service"], !service.isEmpty { tags["service"] = service }
        let event = SecurityEvent(
            eventID: eventID, source: value["source"] ?? "", eventType: "ticket", category: "ticket",
            title: value["title"] ?? "", description: value["description"] ?? "", severity: value["severity"] ?? "",
            tags: tags)
        do {
            let outcome = try await intake.createShedding(event, by: identity, requestBytes: { [] })
            return (outcome.duplicate ? "duplicate" : "created", outcome.incidentID.description)
        } catch {
            return ("rejected", DoorError.from(error, log: log, route: "csv row").message)
        }
    }

    /// The CSV text of the body: as sent for text/csv, or the first file part of a multipart form.
    static func csvText(_ body: [UInt8], contentType: String) throws -> String {
        let lower = contentType.lowercased()
        guard lower.hasPrefix("multipart/form-data") else {
            guard let text = String(validating: body, as: UTF8.self) else {
                throw DoorError.badRequest("body: the CSV is not UTF-8")
            }
            return text
        }
        guard let range = contentType.range(of: "boundary=", options: .caseInsensitive) else {
            throw DoorError.badRequest("Content-Type: multipart/form-data needs a boundary")
        }
        let boundary = contentType[range.upperBound...].split(separator: ";").first
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) } ?? ""
        let parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [String: String], body: [UInt8])] = []
        var headers: [String: String] = [:]
        var current: [UInt8] = []
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { buffer in current.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            parts.append((headers, current))
            headers = [:]
            current = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw DoorError.badRequest("body: not a multipart/form-data body with boundary \(boundary.prefix(70))")
        }
        guard let file = parts.first(where: { ($0.headers["content-disposition"] ?? "").contains("filename=") })
            ?? parts.first else {
            throw DoorError.badRequest("body: the form has no file part")
        }
        guard let text = String(validating: file.body, as: UTF8.self) else {
            throw DoorError.badRequest("body: the CSV is not UTF-8")
        }
        return text
    }
}

/// RFC 4180 CSV: fields separated by commas, rows by CRLF or LF, double quotes around fields that hold commas,
/// quotes or line breaks (a quote inside written twice).
enum CSVTable {
    /// One record and the line it starts on (from 1).
    struct Row {
        var line: Int
        var fields: [String]
    }

    /// The records of `text`; blank lines are skipped. An unterminated quote is a 400 naming its line.
    static func parse(_ text: String, maxRows: Int) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false, quotedField = false
        var line = 1, rowLine = 1
        var characters = Array(text.unicodeScalars)[...]
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !quotedField) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
            field = ""
            quotedField = false
        }
        while let scalar = characters.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if characters.first == "\"" {
                        characters.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                quotedField = true
            case ",":
                fields.append(field)
                field = ""
            case "\r" where characters.first == "\n":
                break
            case "\n":
                endRow()
                line += 1
                rowLine = line
                guard rows.count <= maxRows else {
                    throw DoorError.badRequest("the file has more than \(maxRows) rows")
                }
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { throw DoorError.badRequest("line \(rowLine): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRow() }
        return rows
    }
}
