import Foundation
import Testing
@testable import IncidentCore

/// The pure update and create decisions, with no store or transport: every refusal is a `DomainError` naming the
/// field, every effect a typed value.
@Suite struct UpdateDecisionTests {
    static let responder = IdentityPolicy(name: "oncall", permissions: [.incidentRead, .incidentUpdate])
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func incident(_ status: IncidentStatus = .new, severity: Severity = .high, priority: Priority = .p1,
                         version: Int64 = 3, actions: [RemediationAction] = []) throws -> Incident {
        Incident(
            id: try #require(IncidentID("INC-20261207-00001")), status: status, severity: severity,
            priority: priority, title: "t", description: "", source: "llm-shield", sourceVersion: "", eventType: "",
            category: "security", resource: Resource(), metrics: [:], tags: [:], encryptedPayload: nil,
            requestHash: nil, assignedTeam: "secops", escalationPolicy: "", eventCount: 1,
            createdAt: now.addingTimeInterval(-60), updatedAt: now, acknowledgedAt: nil, resolvedAt: nil,
            version: version, position: 10, timeline: [], remediationActions: actions)
    }

    static func change(_ request: UpdateChangeRequest) throws -> UpdateChange { try UpdateChange(request) }

    func plan(_ current: Incident, _ request: UpdateChangeRequest, config: ServiceConfig = ServiceConfig.defaults,
              paged: Bool = false) throws -> UpdatePlan {
        try IncidentDecisions(config: config).update(current, try Self.change(request), by: Self.responder,
                                                     now: Self.now, paged: paged)
    }

    func refusal(_ body: () throws -> Void) -> DomainError? {
        do { try body() } catch let error as DomainError { return error } catch { return nil }
        return nil
    }

    @Test func checksFieldsBeforeAnythingIsRead() {
        let id = "INC-20261207-00001"
        let cases: [(UpdateChangeRequest, String)] = [
            (UpdateChangeRequest(incidentID: "", note: "x"), "incident_id: is required"),
            (UpdateChangeRequest(incidentID: "INC-1", note: "x"), "incident_id: must look like INC-YYYYMMDD-NNNNN"),
            (UpdateChangeRequest(incidentID: id, status: "done"), "status: \"done\" is not one of"),
            (UpdateChangeRequest(incidentID: id, severity: "urgent"), "severity: "),
            (UpdateChangeRequest(incidentID: id, assignedTeam: " "), "assigned_team: must not be empty"),
            (UpdateChangeRequest(incidentID: id, note: String(repeating: "n", count: 4097)), "note: is 4097 bytes"),
            (UpdateChangeRequest(incidentID: id, note: "  "), "nothing to change"),
        ]
        for (request, message) in cases {
            let error = refusal { _ = try Self.change(request) }
            #expect(error?.code == .invalidArgument, "\(message)")
            #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error)) should start \(message)")
        }
    }

    @Test func followsTheStatusMachine() throws {
        let id = "INC-20261207-00001"
        let acknowledged = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, status: "acknowledged"))
        #expect(acknowledged.status == .acknowledged)
        #expect(acknowledged.expectedVersion == 3)
        let entries: [String] = acknowledged.timelineEntries.map(\.kind)
        #expect(entries == [TimelineKind.statusChanged])
        #expect(acknowledged.timelineEntries[0].details == ["from": "NEW", "to": "ACKNOWLEDGED"])
        #expect(acknowledged.jobs.isEmpty, "an incident never paged has no alert to acknowledge")

        let skip = refusal { _ = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, status: "RESOLVED")) }
        #expect(skip == DomainError(.failedPrecondition, "status: cannot move from NEW to RESOLVED"))
    }

    @Test func refusesAStaleVersion() throws {
        let request = UpdateChangeRequest(incidentID: "INC-20261207-00001", expectedVersion: 2, note: "hi")
        let error = refusal { _ = try plan(try Self.incident(version: 3), request) }
        #expect(error?.code == .aborted)
        #expect(error?.message.contains("is at version 3, not the expected 2") == true)
    }

    @Test func severityGoesThroughTheConfiguredMapping() throws {
        var config = ServiceConfig.defaults
        config.severityMapping[.medium] = .p0
        let id = "INC-20261207-00001"
        let word = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, severity: "Medium"), config: config)
        #expect(word.severity == .medium)
        #expect(word.priority == .p0)
        #expect(word.timelineEntries.first?.kind == TimelineKind.severityChanged)
        #expect(word.timelineEntries.first?.details["set"] == "event_severity")

        let level = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, severity: "P3"), config: config)
        #expect(level.severity == nil, "a level keeps the event's word")
        #expect(level.priority == .p3)

        let same = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, severity: "P1"), config: config)
        #expect(same.changesNothing)
    }

    @Test func pagedIncidentsFollowTheStatusInPagerDuty() throws {
        let id = "INC-20261207-00001"
        let ack = try plan(try Self.incident(), UpdateChangeRequest(incidentID: id, status: "ACKNOWLEDGED"),
                           paged: true)
        #expect(ack.jobs == [PlannedJob(.pageAcknowledge(actor: "oncall"), key: "page.acknowledge", priority: .p1,
                                        maxAttempts: 30)])

        var config = ServiceConfig.defaults
        var hook = WebhookConfig(name: "soar", url: "https://soar.example/hook")
        hook.triggers = [WebhookTriggerConfig(event: "incident_resolved")]
        config.webhooks = [hook]
        let resolved = try plan(try Self.incident(.inProgress), UpdateChangeRequest(
            incidentID: id, status: "resolved", resolution: .fixed), config: config, paged: true)
        let kinds: [JobKind] = resolved.jobs.map(\.kind)
        #expect(kinds == [.pageResolve, .webhook])
        let keys: [String] = resolved.jobs.map(\.key)
        #expect(keys == ["page.resolve:v4", "webhook:soar:incident_resolved:v4"])
        let entries: [String] = resolved.timelineEntries.map(\.kind)
        #expect(entries == [TimelineKind.statusChanged, TimelineKind.resolution])

        config.notifications.pagerDuty.autoResolve = false
        let kept = try plan(try Self.incident(.inProgress), UpdateChangeRequest(incidentID: id, status: "resolved"),
                            config: config, paged: true)
        #expect(!kept.jobs.contains { (job: PlannedJob) in job.kind == JobKind.pageResolve })
    }

    @Test func falsePositiveCompensatesWhatActed() throws {
        let acted = RemediationAction(id: "act-1", kind: "block_user", state: .succeeded)
        let current = try Self.incident(.inProgress, actions: [acted])
        let plan = try plan(current, UpdateChangeRequest(incidentID: "INC-20261207-00001", status: "RESOLVED",
                                                         resolution: .falsePositive))
        #expect(plan.jobs == [PlannedJob(.compensate(actionID: "act-1", reason: "false_positive"),
                                         key: "remediate.compensate:act-1:false-positive", priority: .p1)])
        let entries: [String] = plan.timelineEntries.map(\.kind)
        #expect(entries == [TimelineKind.statusChanged, TimelineKind.resolution, TimelineKind.compensationScheduled])

        let alone = refusal { _ = try self.plan(current, UpdateChangeRequest(
            incidentID: "INC-20261207-00001", note: "x", resolution: .fixed)) }
        #expect(alone == DomainError(.invalidArgument, "resolution: is given together with status RESOLVED"))
    }

    @Test func decidesActionsAwaitingApproval() throws {
        let waiting = RemediationAction(id: "act-2", kind: "block_user", state: .awaitingApproval)
        let id = "INC-20261207-00001"
        let approve = [ActionDecisionRequest(actionID: "act-2", verdict: .approve, reason: "confirmed")]
        let approved = try plan(try Self.incident(.acknowledged, actions: [waiting]),
                                UpdateChangeRequest(incidentID: id, actionDecisions: approve))
        #expect(approved.remediationActions?.first?.state == .approved)
        #expect(approved.jobs == [PlannedJob(.remediate(actionID: "act-2"), key: "remediate:act-2", priority: .p1)])
        let entries: [String] = approved.timelineEntries.map(\.kind)
        #expect(entries == [TimelineKind.actionApproved])

        let unknown = refusal { _ = try plan(try Self.incident(.acknowledged), UpdateChangeRequest(
            incidentID: id, actionDecisions: approve)) }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.hasPrefix("action_decisions[0]: action act-2 does not exist") == true)

        let late = refusal { _ = try plan(try Self.incident(.resolved, actions: [waiting]), UpdateChangeRequest(
            incidentID: id, actionDecisions: approve)) }
        #expect(late?.code == .failedPrecondition)

        let blank = refusal { _ = try plan(try Self.incident(.acknowledged, actions: [waiting]), UpdateChangeRequest(
            incidentID: id, actionDecisions: [ActionDecisionRequest(actionID: "act-2", verdict: nil)])) }
        #expect(blank == DomainError(.invalidArgument,
                                     "action_decisions[0].decision: must be DECISION_APPROVE or DECISION_REJECT"))
    }
}

@Suite struct CreateDecisionTests {
    @Test func bindsIdentitiesToTheirSources() {
        let decisions = IncidentDecisions(config: ServiceConfig.defaults)
        let other = IdentityPolicy(name: "siem", permissions: [.eventCreate])
        #expect(throws: DomainError(.permissionDenied,
                                    "source: identity \"siem\" may not report source \"llm-shield\"")) {
            _ = try decisions.admit(shieldEvent(), by: other)
        }
        var event = shieldEvent()
        event.severity = "urgent"
        let shield = IdentityPolicy(name: "llm-shield", permissions: [.eventCreate])
        do {
            _ = try decisions.admit(event, by: shield)
            Issue.record("an unknown severity was admitted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix("severity: "), "\(error.message)")
        }
    }

    @Test func plansTheJobsOfANewIncident() throws {
        var config = ServiceConfig.defaults
        config.severityMapping[.critical] = .p0
        let decisions = IncidentDecisions(config: config)
        let shield = IdentityPolicy(name: "llm-shield", permissions: [.eventCreate])
        let valid = try decisions.admit(shieldEvent(), by: shield)
        var rules = RulesEngine(rules: config.ruleSet)
        let plan = decisions.create(valid, by: shield, now: Date(timeIntervalSince1970: 1_800_000_000),
                                    rules: &rules, requestBytes: nil)
        #expect(plan.level == .p0)
        #expect(plan.draft.priority == .p0)
        #expect(plan.jobs.allSatisfy { (job: PlannedJob) in job.priority == Priority.p0 })
        let page = plan.jobs.first { (job: PlannedJob) in job.kind == JobKind.pageTrigger }
        #expect(page?.key == "page.trigger")
        #expect(page?.maxAttempts == 8)
        let keys: [String] = plan.jobs.map(\.key)
        #expect(keys.contains("sla.check:acknowledge"))
    }

    @Test func storedJobKindsAreUnchanged() {
        // Existing rows and queued jobs carry these strings: they may never change.
        #expect(JobKind.allCases.map(\.rawValue) == [
            "page.trigger", "page.acknowledge", "page.resolve", "notify.slack", "webhook", "remediate",
            "remediate.compensate", "escalate", "sla.check", "approval.expire", "jira.create", "jira.sync",
        ])
    }
}

@Suite struct ListFilterTests {
    @Test func checksEachFilterNamingItsField() {
        let cases: [(IncidentListRequest, String)] = [
            (IncidentListRequest(statuses: Array(repeating: "NEW", count: 65)), "statuses: at most 64 values"),
            (IncidentListRequest(severities: ["P9"]), "severities: "),
            (IncidentListRequest(statuses: ["open"]), "statuses: \"open\" is not one of"),
            (IncidentListRequest(categories: [""]), "categories: each must be 1 to 128 bytes"),
            (IncidentListRequest(createdAfter: "yesterday"), "created_after: \"yesterday\" is not an RFC 3339 time"),
        ]
        for (request, message) in cases {
            do {
                _ = try IncidentListFilter(request)
                Issue.record("\(message) was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.hasPrefix(message), "\(error.message)")
            }
        }
    }

    @Test func splitsLevelsFromWordsAndBoundsThePage() throws {
        let filter = try IncidentListFilter(IncidentListRequest(severities: ["P0", "critical"], statuses: ["in-progress"],
                                                                pageSize: 5000))
        #expect(filter.levels == [.p0])
        #expect(filter.words == [.critical])
        #expect(filter.statuses == [.inProgress])
        #expect(filter.limit == IncidentListFilter.maxPageSize)
        #expect(try IncidentListFilter(IncidentListRequest()).limit == IncidentListFilter.defaultPageSize)
    }
}
