// The two ways clients name how bad an incident is: the integration guide's level (P0 … P4, what `Incident.severity`
// reports) and the event's own word (critical … info, what detectors send). Filters, updates and creates take both.
import Foundation

/// A severity as a client writes it: the incident's level or the event's word.
public enum SeverityName: Sendable, Hashable {
    case level(Priority)
    case word(Severity)

    /// Parses `P0` … `P4` or `critical` … `info`, any case, surrounding spaces ignored.
    public init?(_ text: String) {
        let trimmed = FastText.trimmed(text)
        if let level = Priority(name: trimmed) {
            self = .level(level)
        } else if let word = Severity(rawValue: FastText.lowercased(trimmed)) {
            self = .word(word)
        } else {
            return nil
        }
    }

    /// Every accepted name, for error messages.
    public static let allNames = "P0, P1, P2, P3, P4, " + Severity.allNames
}

extension Severity {
    /// The word a level stands for on the default scale (P0 is critical … P4 is info): what `event_severity` holds
    /// when a source reports a level rather than a word.
    public init(level: Priority) {
        self = Severity.allCases.first { $0.defaultPriority == level } ?? .info
    }
}

/// Matches incidents by severity: an incident matches when its level is one of `levels` or its event's word is one of
/// `words`; an empty filter matches everything.
public struct SeverityFilter: Sendable, Hashable {
    public var levels: Set<Priority> = []
    public var words: Set<Severity> = []

    public init(levels: Set<Priority> = [], words: Set<Severity> = []) {
        self.levels = levels
        self.words = words
    }

    /// The filter for `names`; the first name that is neither a level nor a word is returned in the error.
    public init(names: [String]) throws(UnknownSeverityName) {
        for name in names {
            switch SeverityName(name) {
            case .level(let level): levels.insert(level)
            case .word(let word): words.insert(word)
            case nil: throw UnknownSeverityName(name: name)
            }
        }
    }

    public var isEmpty: Bool { levels.isEmpty && words.isEmpty }

    public func matches(level: Priority, word: Severity) -> Bool {
        isEmpty || levels.contains(level) || words.contains(word)
    }
}

/// A severity name that is neither a level (P0 … P4) nor an event word (critical … info).
public struct UnknownSeverityName: Error, Sendable, Hashable {
    public var name: String

    public init(name: String) {
        self.name = name
    }

    /// `"<name>" is not one of P0 … info`, for the caller's field.
    public var problem: String { "\"\(name.prefix(64))\" is not one of \(SeverityName.allNames)" }
}

extension [Severity: Priority] {
    /// The level `name` stands for under this `severity_mapping`: a level is taken as is, a word is mapped (a word the
    /// mapping leaves out keeps its default level). The one place a severity word becomes a level.
    public func level(for name: SeverityName) -> Priority {
        switch name {
        case .level(let level): level
        case .word(let word): self[word] ?? word.defaultPriority
        }
    }
}

extension ServiceConfig {
    /// The level `name` gives an incident: a level is taken as is, a word goes through `severity_mapping`.
    public func level(for name: SeverityName) -> Priority {
        severityMapping.level(for: name)
    }

    /// The level of a validated event: the one it named, or its word's through its source's `severity_mapping`
    /// (`integrations.<source>.severity_mapping`), else the service's.
    public func level(of event: ValidatedEvent) -> Priority {
        if event.level == nil, let source = sources[event.event.source], source.enabled,
           let level = source.severityMapping[event.severity] {
            return level
        }
        return level(for: event.level.map(SeverityName.level) ?? .word(event.severity))
    }
}
