// Turns a validated event and the rules' plan into the draft the store writes: redacted text, hashes,
// routing frozen onto the incident, and the first timeline entries and remediation actions.
import Foundation

/// Builds incident drafts.
public struct DraftBuilder: Sendable {
    public var security: SecurityOptions
    private let redactor = PIIRedactor()

    public init(security: SecurityOptions) {
        self.security = security
    }

    /// The draft for `event` at `priority`, as `plan` routes it. `requestBytes` are the request as received,
    /// hashed when `include_request_hash` is on.
    public func draft(
        from event: ValidatedEvent, priority: Priority, plan: IncidentPlan, actor: String, requestBytes: [UInt8]?,
        now: Date
    ) -> IncidentDraft {
        let e = event.event
        var title = e.title, description = e.description, tags = e.tags, resource = e.resource
        var redacted = Set<PIIKind>()
        if security.redactPII {
            let t = redactor.redact(title), d = redactor.redact(description), g = redactor.redact(tags)
            title = t.text
            description = d.text
            tags = g.map
            redacted = t.found.union(d.found).union(g.found)
            // The resource is as free-form as the tags (a user's mailbox, a host's address).
            let id = redactor.redact(resource.id), name = redactor.redact(resource.name)
            let metadata = redactor.redact(resource.metadata)
            resource.id = id.text
            resource.name = name.text
            resource.metadata = metadata.map
            redacted.formUnion(id.found.union(name.found).union(metadata.found))
        }
        var timeline = [TimelineEntry(at: now, actor: actor, kind: TimelineKind.created,
                                      message: "\(e.eventType.isEmpty ? "event" : e.eventType) from \(e.source), \(event.severity.rawValue) (\(priority))",
                                      details: ["severity": priority.description, "event_severity": event.severity.rawValue,
                                                "source": e.source, "event_id": e.eventID])]
        if !redacted.isEmpty {
            timeline.append(TimelineEntry(at: now, actor: "system", kind: TimelineKind.redacted,
                                          message: "masked " + redacted.map(\.rawValue).sorted().joined(separator: ", ")))
        }
        timeline.append(TimelineEntry(at: now, actor: "system", kind: TimelineKind.routed,
                                      message: "team \(plan.team), escalation policy \(plan.escalationPolicy)"
                                          + (plan.routingRule.map { " (rule \($0))" } ?? " (defaults)")))
        if plan.page {
            timeline.append(TimelineEntry(at: now, actor: "system", kind: TimelineKind.pageScheduled,
                                          message: "paging \(plan.escalationPolicy): \(plan.pageReasons.joined(separator: "; "))"))
        }
        var actions: [RemediationAction] = []
        for (index, planned) in plan.actions.enumerated() {
            // Parameters copy event values (`user_id` from the tags): stored redacted like the tags. The
            // executor's unredacted inputs travel in the action's job payloads instead (`ExecutorInputs`),
            // which no read of the API returns.
            var params = planned.parameters
            if security.redactPII { params = redactor.redact(params).map }
            params["rule"] = planned.rule
            if let ttl = planned.compensateAfterSeconds { params["compensate_after_seconds"] = String(Int(ttl)) }
            if case .awaitingApproval(let expires) = planned.state { params["approval_ttl_seconds"] = String(Int(expires)) }
            if case .skipped(let reason) = planned.state { params["reason"] = reason }
            actions.append(RemediationAction(id: "A\(index + 1)", kind: planned.kind.description, state: planned.state.state, params: params))
            timeline.append(TimelineEntry(at: now, actor: "system", kind: TimelineKind.remediationPlanned,
                                          message: "A\(index + 1) \(planned.kind) by rule \(planned.rule): \(planned.state)",
                                          details: ["action_id": "A\(index + 1)", "action_type": planned.kind.description,
                                                    "rule": planned.rule, "state": planned.state.code]))
        }
        return IncidentDraft(
            source: e.source, eventID: e.eventID, contentHash: Self.contentHash(of: e), severity: event.severity,
            title: title, priority: priority, description: description, sourceVersion: e.sourceVersion,
            eventType: e.eventType, category: e.category, resource: resource, metrics: e.metrics, tags: tags,
            encryptedPayload: e.encryptedPayload.isEmpty ? nil : e.encryptedPayload,
            requestHash: security.includeRequestHash ? requestBytes.map { Digest.hex(Digest.sha256($0)) } : nil,
            assignedTeam: plan.team, escalationPolicy: plan.escalationPolicy, timeline: timeline,
            remediationActions: actions)
    }

    /// SHA-256 of a canonical encoding of the normalized event (before redaction): equal for a true replay,
    /// different when anything the sender said differs. Length-prefixed fields and sorted maps make it
    /// independent of map order and field boundaries.
    public static func contentHash(of event: SecurityEvent) -> [UInt8] {
        var bytes: [UInt8] = []
        func put(_ s: String) {
            let utf8 = Array(s.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
        func put(_ map: [String: String]) {
            put(String(map.count))
            for key in map.keys.sorted() { put(key); put(map[key]!) }
        }
        for field in [event.eventID, event.source, event.sourceVersion, event.timestamp, event.eventType,
                      event.category, event.title, event.description, event.severity,
                      event.resource.type, event.resource.id, event.resource.name] { put(field) }
        put(event.resource.metadata)
        put(event.tags)
        put(String(event.metrics.count))
        for key in event.metrics.keys.sorted() {
            put(key)
            withUnsafeBytes(of: event.metrics[key]!.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        put(String(event.encryptedPayload.count))
        bytes.append(contentsOf: event.encryptedPayload)
        return Digest.sha256(bytes)
    }
}

extension ValidatedEvent {
    /// What the rules see of this event (unredacted: parameters such as `user_id` must stay usable;
    /// the facts live only in memory).
    public func facts(priority: Priority) -> EventFacts {
        EventFacts(source: event.source, category: event.category, eventType: event.eventType, severity: severity,
                   priority: priority, tags: event.tags, resourceType: event.resource.type,
                   resourceID: event.resource.id, resourceMetadata: event.resource.metadata)
    }
}
