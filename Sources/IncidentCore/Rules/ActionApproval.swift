// Human decisions on remediation actions that wait for approval, and their expiry: which moves are allowed and
// what the action looks like afterwards. Pure: the service reads the incident, applies these, and writes it back
// with the version it read, so a decision and an expiry racing each other cannot both win.
import Foundation

/// What a person decided about an action.
public enum ApprovalVerdict: String, Sendable, Hashable {
    case approve
    case reject
}

/// Why a decision cannot be applied.
public enum ApprovalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The incident has no action with this id.
    case unknownAction(id: String)
    /// The action is not waiting for a decision (already decided, never needed one, or denied on expiry).
    case notAwaitingApproval(id: String, state: RemediationAction.State)
    /// The approval's TTL ran out; the action is (or is about to be) denied.
    case expired(id: String, at: Date)

    public var description: String {
        switch self {
        case .unknownAction(let id):
            "action \(id) does not exist on this incident"
        case .notAwaitingApproval(let id, let state) where state == RemediationAction.State.denied:
            "action \(id) was denied when its approval expired; it can no longer be decided"
        case .notAwaitingApproval(let id, let state):
            "action \(id) is \(state), not awaiting approval"
        case .expired(let id, let at):
            "the approval of action \(id) expired at \(at.formatted(.iso8601)); it can no longer be decided"
        }
    }
}

/// Applies decisions and expiries to an incident's actions.
public enum ActionApproval {
    /// When the approval of `action` runs out: `approval_expires_at` (epoch seconds) when the action carries it,
    /// else the incident's creation plus `approval_ttl_seconds`; nil when it never expires.
    public static func expiry(of action: RemediationAction, incidentCreatedAt: Date) -> Date? {
        if let raw = action.params["approval_expires_at"], let epoch = Double(raw) {
            return Date(timeIntervalSince1970: epoch)
        }
        guard let raw = action.params["approval_ttl_seconds"], let ttl = Double(raw) else { return nil }
        return incidentCreatedAt.addingTimeInterval(ttl)
    }

    /// Decides action `id` in `actions`, returning the decided action. Throws when the action is unknown, not
    /// awaiting approval, or its approval expired at `now`.
    public static func decide(
        _ verdict: ApprovalVerdict, actionID id: String, reason: String, actor: String, now: Date,
        incidentCreatedAt: Date, actions: inout [RemediationAction]
    ) throws(ApprovalError) -> RemediationAction {
        guard let index = actions.firstIndex(where: { $0.id == id }) else { throw .unknownAction(id: id) }
        var action = actions[index]
        guard action.state == RemediationAction.State.awaitingApproval else {
            throw .notAwaitingApproval(id: id, state: action.state)
        }
        if let expiry = expiry(of: action, incidentCreatedAt: incidentCreatedAt), now >= expiry {
            throw .expired(id: id, at: expiry)
        }
        action.state = verdict == .approve ? RemediationAction.State.approved : RemediationAction.State.rejected
        action.params["decided_by"] = actor
        action.params["decided_at"] = String(now.timeIntervalSince1970)
        if !reason.isEmpty { action.params["reason"] = reason }
        actions[index] = action
        return action
    }

    /// Denies action `id` because its approval expired, when it still awaits one; returns the denied action, or nil
    /// when there is nothing to do (already decided, or no such action).
    public static func expire(actionID id: String, now: Date, actions: inout [RemediationAction])
        -> RemediationAction?
    {
        guard let index = actions.firstIndex(where: { $0.id == id }),
              actions[index].state == RemediationAction.State.awaitingApproval else { return nil }
        var action = actions[index]
        action.state = RemediationAction.State.denied
        action.params["decided_by"] = "system"
        action.params["decided_at"] = String(now.timeIntervalSince1970)
        action.params["reason"] = "approval expired"
        actions[index] = action
        return action
    }
}
