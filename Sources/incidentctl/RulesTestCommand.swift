// `incidentctl rules test`: evaluates a config's rules offline against recorded events, so a rule
// change can be reviewed (who is paged, what acts, what waits for approval) before it ships.
import ArgumentParser
import Foundation
import IncidentCore

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with routing and auto-remediation rules.",
        subcommands: [Test.self]
    )

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the rules in a config would do with recorded events.",
            discussion: """
            EVENTS is a JSON-lines file of CreateIncidentRequest messages in proto3 JSON (field names in \
            lowerCamelCase or as in the proto). Events are replayed in order; cooldowns, blast-radius caps and \
            correlation windows use each event's `timestamp` when it has one. An event whose correlation key \
            matches an incident an earlier event opened, within the window, is shown folding into it: it starts \
            nothing (a more severe one raises the incident and pages per policy). Incidents are numbered #1, #2, \
            ... in the order the events open them; none is ever resolved in a replay.
            """
        )

        @Option(name: .long, help: "The service config (YAML).")
        var config: String

        @Option(name: .long, help: "Recorded events, one JSON object a line.")
        var events: String

        @Flag(name: .long, help: "Print one JSON object per event instead of text.")
        var json = false

        func run() throws {
            let serviceConfig: ServiceConfig
            do {
                let text = try String(contentsOfFile: config, encoding: .utf8)
                serviceConfig = try ServiceConfig.parse(yaml: text, file: config)
            } catch let error as ConfigError {
                printError("incidentctl: \(error)")
                throw ExitCode(ExitStatus.config)
            } catch {
                printError("incidentctl: cannot read \(config): \(error.localizedDescription)")
                throw ExitCode(ExitStatus.config)
            }
            guard let data = FileManager.default.contents(atPath: events) else {
                printError("incidentctl: cannot read \(events)")
                throw ExitCode(ExitStatus.dataError)
            }
            var engine = RulesEngine(rules: serviceConfig.ruleSet)
            var incidents = CorrelationReplay(config: serviceConfig.correlation)
            var clock = 0.0
            for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                let recorded: RecordedEvent
                do {
                    recorded = try RecordedEvent(jsonLine: trimmed, mapping: serviceConfig.severityMapping)
                } catch {
                    printError("incidentctl: \(events):\(index + 1): \(error)")
                    throw ExitCode(ExitStatus.dataError)
                }
                if let time = recorded.time { clock = max(clock, time) }
                let fate = incidents.place(recorded, at: clock)
                // A folded event starts nothing, so it reserves no cooldown or blast-radius count either.
                let plan = fate.folds ? nil : engine.plan(for: recorded.facts, now: clock)
                print(json ? PlanFormatter.json(recorded, plan, fate) : PlanFormatter.text(recorded, plan, fate))
            }
        }
    }
}

/// The incidents a replay of recorded events opens, and which of them each keyed event folds into.
struct CorrelationReplay {
    let config: CorrelationConfig
    /// Open incidents by correlation key: number, opening event, level, last event time.
    private var open: [String: (number: Int, openedBy: String, level: Priority, last: Double)] = [:]
    private var opened = 0

    init(config: CorrelationConfig) {
        self.config = config
    }

    /// What becomes of `event` at `time`: the incident it opens or folds into.
    mutating func place(_ event: RecordedEvent, at time: Double) -> CorrelationFate {
        let key = config.key(for: event.securityEvent)
        if let key, var holder = open[key.value], time - holder.last <= key.windowSeconds {
            let raisedFrom = event.facts.priority < holder.level ? holder.level : nil
            holder.last = time
            holder.level = min(holder.level, event.facts.priority)
            open[key.value] = holder
            return CorrelationFate(incident: holder.number, folds: true, openedBy: holder.openedBy,
                                   raisedFrom: raisedFrom)
        }
        opened += 1
        if let key { open[key.value] = (opened, event.eventID, event.facts.priority, time) }
        return CorrelationFate(incident: opened, folds: false, openedBy: event.eventID, raisedFrom: nil)
    }
}

/// The incident one recorded event opens or folds into.
struct CorrelationFate {
    /// #1, #2, ... in the order the replay opens them.
    var incident: Int
    var folds: Bool
    var openedBy: String
    /// The incident's level before this folded event raised it.
    var raisedFrom: Priority?
}

/// One line of the events file, read as the service would read the request.
struct RecordedEvent {
    var eventID: String
    var facts: EventFacts
    /// The fields correlation keys read, as the service sees them.
    var securityEvent: SecurityEvent
    /// Seconds since 1970 from the event's RFC 3339 timestamp.
    var time: Double?

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    init(jsonLine: String, mapping: [Severity: Priority]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any] else {
            throw Problem(description: "not a JSON object")
        }
        func field(_ camel: String, _ snake: String) -> Any? { object[camel] ?? object[snake] }
        func text(_ camel: String, _ snake: String) -> String { field(camel, snake) as? String ?? "" }
        func strings(_ value: Any?) -> [String: String] {
            (value as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        }
        // As the server reads it: a level is taken as given, a word goes through the mapping.
        let name = text("severity", "severity")
        let severity: Severity, priority: Priority
        switch SeverityName(name) {
        case .level(let level): (severity, priority) = (Severity(level: level), level)
        case .word(let word): (severity, priority) = (word, mapping.level(for: .word(word)))
        case nil: throw Problem(description: "severity \"\(name)\" is not one of \(SeverityName.allNames)")
        }
        let resource = field("resource", "resource") as? [String: Any] ?? [:]
        eventID = text("eventId", "event_id")
        facts = EventFacts(
            source: text("source", "source"), category: text("category", "category"),
            eventType: text("eventType", "event_type"), severity: severity, priority: priority,
            tags: strings(field("tags", "tags")),
            resourceType: resource["type"] as? String ?? "", resourceID: resource["id"] as? String ?? "",
            resourceMetadata: strings(resource["metadata"]))
        securityEvent = SecurityEvent(
            eventID: eventID, source: facts.source, eventType: facts.eventType, category: facts.category, title: "",
            severity: name, resource: Resource(type: facts.resourceType, id: facts.resourceID), tags: facts.tags)
        let timestamp = text("timestamp", "timestamp")
        time = timestamp.isEmpty ? nil : ISO8601DateFormatter().date(from: timestamp)?.timeIntervalSince1970
    }
}

/// Renders a plan for people (text) or for scripts (JSON lines).
enum PlanFormatter {
    static func text(_ event: RecordedEvent, _ plan: IncidentPlan?, _ fate: CorrelationFate) -> String {
        let name = event.eventID.isEmpty ? "(no event_id)" : event.eventID
        let head = "\(name)  \(event.facts.severity.rawValue)/\(event.facts.priority)  \(event.facts.eventType)"
        guard let plan else {
            var line = "\(head)  -> folds into incident #\(fate.incident) (opened by \(fate.openedBy))"
            if let from = fate.raisedFrom {
                line += "\n  raises it from \(from) to \(event.facts.priority); pages per policy, nothing else starts"
            } else {
                line += "\n  nothing starts: no page, notification or action"
            }
            return line
        }
        var lines = ["\(head)  -> incident #\(fate.incident), team \(plan.team), policy \(plan.escalationPolicy)"
                     + (plan.routingRule.map { " (rule \($0))" } ?? " (defaults)")]
        lines.append("  page: " + (plan.page ? "yes (\(plan.pageReasons.joined(separator: "; ")))" : "no"))
        if !plan.channels.isEmpty { lines.append("  notify: \(plan.channels.joined(separator: ", "))") }
        for action in plan.actions {
            let parameters = action.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("  action \(action.rule) [\(action.kind)] \(parameters): \(action.state)")
        }
        if plan.actions.isEmpty { lines.append("  actions: none") }
        return lines.joined(separator: "\n")
    }

    static func json(_ event: RecordedEvent, _ plan: IncidentPlan?, _ fate: CorrelationFate) -> String {
        var correlation: [String: Any] = ["incident": fate.incident, "folds": fate.folds, "opened_by": fate.openedBy]
        if let from = fate.raisedFrom { correlation["raises_from"] = from.description }
        guard let plan else {
            let object: [String: Any] = [
                "event_id": event.eventID, "priority": event.facts.priority.description, "correlation": correlation,
                "page": fate.raisedFrom != nil, "actions": [[String: Any]](), "channels": [String](),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
        let object: [String: Any] = [
            "correlation": correlation,
            "event_id": event.eventID,
            "priority": event.facts.priority.description,
            "team": plan.team,
            "escalation_policy": plan.escalationPolicy,
            "routing_rule": plan.routingRule ?? NSNull(),
            "page": plan.page,
            "page_reasons": plan.pageReasons,
            "channels": plan.channels,
            "actions": plan.actions.map { action in
                var entry: [String: Any] = [
                    "rule": action.rule, "type": action.kind.description, "parameters": action.parameters,
                    "state": action.state.code,
                ]
                if case .skipped(let reason) = action.state { entry["reason"] = reason }
                return entry
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
