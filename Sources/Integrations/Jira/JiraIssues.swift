// Jira Cloud REST v3 for the incident's issue (guide §7): the create body (summary "[INC-…] <title>", an Atlassian
// Document Format description, project and issue type by category, priority by level, the guide's labels and the
// incident-id custom field) and the search that finds an issue already opened for an incident, so a retry after
// Jira answered but before we wrote the key down links that issue instead of opening a second one. Pure.
import Foundation
import IncidentCore

/// Builds Jira requests and reads Jira's answers.
public struct JiraIssues: Sendable {
    public var config: JiraConfig
    /// Expanded credentials; only ever placed in the Authorization header.
    private let email: String
    private let apiToken: String
    public var timeoutSeconds: Double

    public init(config: JiraConfig, email: String, apiToken: String, timeoutSeconds: Double = 10) {
        self.config = config
        self.email = email
        self.apiToken = apiToken
        self.timeoutSeconds = timeoutSeconds
    }

    /// The labels every issue carries; the search relies on the first.
    public static let fixedLabels = ["llm-incident-manager", "automated"]

    private var headers: [String: String] {
        ["Content-Type": "application/json", "Accept": "application/json",
         "Authorization": "Basic " + Data("\(email):\(apiToken)".utf8).base64EncodedString()]
    }

    /// `POST /rest/api/3/issue` for an incident.
    public func createRequest(for incident: IncidentSummary, attemptKey: String) -> OutboundRequest {
        let route = config.route(category: incident.category)
        var fields: [String: Any] = [
            "project": ["key": route.projectKey],
            "summary": "[\(incident.id)] \(incident.title)".prefix(255).description,
            "description": [
                "type": "doc", "version": 1,
                "content": Self.paragraphs(incident.description.isEmpty ? incident.title : incident.description)
                    + Self.paragraphs("Incident \(incident.id) (\(incident.priority), \(incident.category)): \(incident.url)"),
            ] as [String: Any],
            "issuetype": ["name": route.issueType],
            "labels": Self.fixedLabels + (incident.category.isEmpty ? [] : [Self.label(incident.category)]),
            config.incidentIDField: incident.id,
        ]
        if let priority = config.priorityNames[incident.priority] { fields["priority"] = ["name": priority] }
        return request("POST", "/rest/api/3/issue", body: ["fields": fields], key: attemptKey)
    }

    /// `POST /rest/api/3/search`: issues of ours whose incident-id field holds `incidentID`.
    public func searchRequest(incidentID: String, attemptKey: String) -> OutboundRequest {
        let jql = "labels = \"\(Self.fixedLabels[0])\" AND \(Self.jqlField(config.incidentIDField)) ~ \"\(incidentID)\""
        return request("POST", "/rest/api/3/search",
                       body: ["jql": jql, "fields": ["key", config.incidentIDField], "maxResults": 10], key: attemptKey)
    }

    /// The key of the issue of `incidentID` in a search answer (exact match on the field: `~` is a text search).
    public func foundKey(in body: [UInt8], incidentID: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let issues = object["issues"] as? [[String: Any]] else { return nil }
        return issues.first { issue in
            (issue["fields"] as? [String: Any])?[config.incidentIDField] as? String == incidentID
        }?["key"] as? String
    }

    /// The key in a create answer (`{"id", "key", "self"}`).
    public static func createdKey(in body: [UInt8]) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["key"] as? String
    }

    /// `GET /rest/api/3/issue/<key>/transitions`: the transitions the issue's workflow offers now.
    public func transitionsRequest(key: String, attemptKey: String) -> OutboundRequest {
        var request = self.request("GET", "/rest/api/3/issue/\(Self.pathSegment(key))/transitions", body: [:],
                                   key: attemptKey)
        request.body = []
        return request
    }

    /// The id of the offered transition named `name` (or leading to a status named `name`).
    public static func transitionID(in body: [UInt8], named name: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let transitions = object["transitions"] as? [[String: Any]] else { return nil }
        return transitions.first { transition in
            transition["name"] as? String == name || (transition["to"] as? [String: Any])?["name"] as? String == name
        }?["id"] as? String
    }

    /// `POST /rest/api/3/issue/<key>/transitions` moving the issue through transition `id`.
    public func transitionRequest(key: String, transitionID: String, attemptKey: String) -> OutboundRequest {
        request("POST", "/rest/api/3/issue/\(Self.pathSegment(key))/transitions",
                body: ["transition": ["id": transitionID]], key: attemptKey)
    }

    /// `POST /rest/api/3/issue/<key>/comment` with `text` as an ADF document.
    public func commentRequest(key: String, text: String, attemptKey: String) -> OutboundRequest {
        request("POST", "/rest/api/3/issue/\(Self.pathSegment(key))/comment",
                body: ["body": ["type": "doc", "version": 1, "content": Self.paragraphs(text)] as [String: Any]],
                key: attemptKey)
    }

    /// An issue key as a path segment: keys are `ABC-123`, anything else is escaped rather than trusted.
    static func pathSegment(_ key: String) -> String {
        key.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_")))
            ?? ""
    }

    /// Where people open the issue.
    public func browseURL(key: String) -> String { "\(config.baseURL)/browse/\(key)" }

    private func request(_ method: String, _ path: String, body: [String: Any], key: String) -> OutboundRequest {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return OutboundRequest(integration: "jira", method: method, url: config.baseURL + path, headers: headers,
                               body: Array(data), idempotencyKey: key, timeoutSeconds: timeoutSeconds)
    }

    /// ADF paragraphs, one per line of text.
    static func paragraphs(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            ["type": "paragraph", "content": [["type": "text", "text": String(line)]]]
        }
    }

    /// Jira labels cannot hold spaces.
    static func label(_ text: String) -> String { text.replacingOccurrences(of: " ", with: "_") }

    /// `customfield_10001` as JQL names it (`cf[10001]`); other names as written.
    static func jqlField(_ field: String) -> String {
        field.hasPrefix("customfield_") ? "cf[\(field.dropFirst("customfield_".count))]" : "\"\(field)\""
    }
}
