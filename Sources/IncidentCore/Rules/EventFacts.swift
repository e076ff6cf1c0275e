// The facts about one security event that rules look at; built by the service from a validated request.

/// What routing and remediation rules can match on.
public struct EventFacts: Sendable, Hashable {
    public var source: String
    public var category: String
    public var eventType: String
    public var severity: Severity
    /// The priority the severity maps to.
    public var priority: Priority
    public var tags: [String: String]
    public var resourceType: String
    public var resourceID: String
    public var resourceMetadata: [String: String]

    public init(
        source: String, category: String, eventType: String, severity: Severity, priority: Priority,
        tags: [String: String] = [:], resourceType: String = "", resourceID: String = "",
        resourceMetadata: [String: String] = [:]
    ) {
        self.source = source
        self.category = category
        self.eventType = eventType
        self.severity = severity
        self.priority = priority
        self.tags = tags
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.resourceMetadata = resourceMetadata
    }

    /// A parameter an action needs (`user_id`, `tenant_id`, `session_id`): from the tags first, then the
    /// resource's metadata, then the resource itself when its type names the parameter (`type: user`).
    public func parameter(_ name: String) -> String? {
        if let value = tags[name], !value.isEmpty { return value }
        if let value = resourceMetadata[name], !value.isEmpty { return value }
        if name.hasSuffix("_id"), resourceType == String(name.dropLast(3)), !resourceID.isEmpty { return resourceID }
        return nil
    }
}
