// How an incident was resolved in words: its root cause and the actions taken, as the people resolving it wrote
// them (UpdateIncident's `root_cause` and `actions_taken`; Governance reads them as `resolution{root_cause
// actions_taken}`). Checked here so every door refuses the same things.
import Foundation

/// The root cause and actions taken recorded on a resolved incident.
public struct ResolutionDetails: Sendable, Hashable, Codable {
    public var rootCause: String
    public var actionsTaken: [String]

    /// Most bytes of the root cause and of one action, and most actions: a resolution is a summary, not a log.
    public static let maxRootCauseBytes = 4096
    public static let maxActionBytes = 1024
    public static let maxActions = 50

    public init(rootCause: String, actionsTaken: [String]) {
        self.rootCause = rootCause
        self.actionsTaken = actionsTaken
    }

    enum CodingKeys: String, CodingKey {
        case rootCause = "root_cause"
        case actionsTaken = "actions_taken"
    }

    /// Checks what a caller sent: trimmed, empty actions dropped, sizes bounded; nil when nothing was sent.
    public static func parse(rootCause: String?, actionsTaken: [String]) throws(DomainError) -> ResolutionDetails? {
        let cause = rootCause?.trimmingCharacters(in: .whitespacesAndNewlines)
        let actions = actionsTaken.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard cause?.isEmpty == false || !actions.isEmpty else { return nil }
        if let cause, cause.utf8.count > maxRootCauseBytes {
            throw DomainError(.invalidArgument, "root_cause: is \(cause.utf8.count) bytes; at most \(maxRootCauseBytes)")
        }
        guard actions.count <= maxActions else {
            throw DomainError(.invalidArgument, "actions_taken: \(actions.count) entries; at most \(maxActions)")
        }
        if let index = actions.firstIndex(where: { $0.utf8.count > maxActionBytes }) {
            throw DomainError(.invalidArgument, "actions_taken[\(index)]: at most \(maxActionBytes) bytes")
        }
        return ResolutionDetails(rootCause: cause ?? "", actionsTaken: actions)
    }

    /// This record with `newer`'s parts laid over it: a later update may add the actions without repeating the cause.
    public func merged(with newer: ResolutionDetails) -> ResolutionDetails {
        ResolutionDetails(rootCause: newer.rootCause.isEmpty ? rootCause : newer.rootCause,
                          actionsTaken: newer.actionsTaken.isEmpty ? actionsTaken : newer.actionsTaken)
    }
}
