// The `conditions` block of a routing or remediation rule: every list given must contain the event's value.

/// Which events a rule applies to. An empty list means "any".
public struct RuleConditions: Sendable, Hashable {
    /// Priorities; the config accepts `P0` or severity names.
    public var priorities: Set<Priority>
    public var eventTypes: Set<String>
    public var categories: Set<String>
    public var sources: Set<String>
    /// Tag values the event must carry; the value `*` only requires the tag to be present.
    public var tags: [String: String]

    public init(
        priorities: Set<Priority> = [], eventTypes: Set<String> = [], categories: Set<String> = [],
        sources: Set<String> = [], tags: [String: String] = [:]
    ) {
        self.priorities = priorities
        self.eventTypes = eventTypes
        self.categories = categories
        self.sources = sources
        self.tags = tags
    }

    /// True when the event satisfies every condition.
    public func matches(_ event: EventFacts) -> Bool {
        (priorities.isEmpty || priorities.contains(event.priority))
            && (eventTypes.isEmpty || eventTypes.contains(event.eventType))
            && (categories.isEmpty || categories.contains(event.category))
            && (sources.isEmpty || sources.contains(event.source))
            && tags.allSatisfy { key, expected in
                guard let actual = event.tags[key] else { return false }
                return expected == "*" || actual == expected
            }
    }
}
