// The value types an incident is made of: the affected resource, timeline entries, remediation actions.
import Foundation

/// The thing an event is about: a model, an endpoint, a user account.
public struct Resource: Sendable, Hashable, Codable {
    /// What kind of resource, e.g. `llm_endpoint`.
    public var type: String
    /// The resource's identifier in its own system.
    public var id: String
    /// A readable name.
    public var name: String
    /// Free-form facts about the resource.
    public var metadata: [String: String]

    public init(type: String = "", id: String = "", name: String = "", metadata: [String: String] = [:]) {
        self.type = type
        self.id = id
        self.name = name
        self.metadata = metadata
    }
}

/// One line of an incident's history as people read it.
public struct TimelineEntry: Sendable, Hashable, Codable {
    /// When it happened.
    public var at: Date
    /// Who did it: a certificate identity or `system`.
    public var actor: String
    /// A short machine-readable kind, e.g. `status_changed`.
    public var kind: String
    /// What happened, for people.
    public var message: String

    public init(at: Date, actor: String, kind: String, message: String) {
        self.at = at
        self.actor = actor
        self.kind = kind
        self.message = message
    }
}

/// An automatic or manual response to an incident, e.g. blocking an IP.
public struct RemediationAction: Sendable, Hashable, Codable {
    /// Stable id of the action within its incident.
    public var id: String
    /// What the action does, e.g. `block_ip`.
    public var kind: String
    /// Where the action stands, e.g. `pending`, `done`, `failed`.
    public var state: String
    /// The action's arguments.
    public var params: [String: String]

    public init(id: String, kind: String, state: String, params: [String: String] = [:]) {
        self.id = id
        self.kind = kind
        self.state = state
        self.params = params
    }
}
