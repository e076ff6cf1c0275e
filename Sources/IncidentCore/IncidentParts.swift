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
    /// What happened, for programs: e.g. `from`/`to` of a status change, `action_id` of an action's step.
    public var details: [String: String]
    /// The change-log position of the change that wrote the entry; the store supplies it when the change commits
    /// (0 for entries written before schema version 8, and for drafts not yet written).
    public var position: Int64

    public init(at: Date, actor: String, kind: String, message: String, details: [String: String] = [:],
                position: Int64 = 0) {
        self.at = at
        self.actor = actor
        self.kind = kind
        self.message = message
        self.details = details
        self.position = position
    }

    private enum CodingKeys: String, CodingKey {
        case at, actor, kind, message, details, position
    }

    // Entries stored before `details` and `position` existed lack them; they read as empty and 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        at = try container.decode(Date.self, forKey: .at)
        actor = try container.decode(String.self, forKey: .actor)
        kind = try container.decode(String.self, forKey: .kind)
        message = try container.decode(String.self, forKey: .message)
        details = try container.decodeIfPresent([String: String].self, forKey: .details) ?? [:]
        position = try container.decodeIfPresent(Int64.self, forKey: .position) ?? 0
    }

    // An entry not yet written has no `position` key, so the store's stamp (which fills only entries that lack
    // one) gives it the position of the change that writes it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(kind, forKey: .kind)
        try container.encode(message, forKey: .message)
        if !details.isEmpty { try container.encode(details, forKey: .details) }
        if position != 0 { try container.encode(position, forKey: .position) }
    }
}

/// An automatic or manual response to an incident, e.g. blocking an IP.
public struct RemediationAction: Sendable, Hashable, Codable {
    /// Stable id of the action within its incident.
    public var id: String
    /// What the action does, e.g. `block_ip`.
    public var kind: String
    /// Where the action stands, e.g. `.pending`, `.done`, `.failed`.
    public var state: State
    /// The action's arguments.
    public var params: [String: String]

    public init(id: String, kind: String, state: State, params: [String: String] = [:]) {
        self.id = id
        self.kind = kind
        self.state = state
        self.params = params
    }

    /// The timeline details that name this action.
    public var details: [String: String] { ["action_id": id, "action_type": kind] }
}

extension RemediationAction {
    /// Where an action stands: the rules' verdict at creation, a person's decision, then what the runner did. Stored
    /// as its code (`pending`, `done`, ...); a code this build does not know, from an older or newer row, is kept as
    /// written rather than refused.
    public struct State: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        /// Ready to run, no approval needed.
        public static let pending = State(rawValue: "pending")
        /// Waits for a person until the approval's TTL runs out.
        public static let awaitingApproval = State(rawValue: "awaiting_approval")
        public static let approved = State(rawValue: "approved")
        public static let rejected = State(rawValue: "rejected")
        /// Nobody decided before the approval's TTL ran out.
        public static let denied = State(rawValue: "denied")
        /// Would have run; recorded only.
        public static let dryRun = State(rawValue: "dry_run")
        /// A parameter it needs is missing from the event.
        public static let skipped = State(rawValue: "skipped")
        public static let suppressedByCooldown = State(rawValue: "suppressed_cooldown")
        public static let cappedByBlastRadius = State(rawValue: "capped_blast_radius")
        public static let running = State(rawValue: "running")
        /// Carried out by its executor.
        public static let done = State(rawValue: "done")
        /// Carried out (the code older rows use).
        public static let succeeded = State(rawValue: "succeeded")
        public static let failed = State(rawValue: "failed")
        /// Carried out, then undone.
        public static let compensated = State(rawValue: "compensated")

        /// May run now: planned to run, or approved by a person.
        public var isRunnable: Bool { self == .pending || self == .approved }
        /// Its executor carried it out (and it was not undone since).
        public var hasActed: Bool { self == .done || self == .succeeded }

        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }
}
