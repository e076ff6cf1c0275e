// Reads `integrations.llm-governance-core` and `integrations.jira` in the guide's shapes, as strictly as the rest of
// the file: an unknown key names itself, and a secret written in clear is accepted but is the operator's choice.
import Yams

extension ConfigReader {
    func readGovernance(_ node: Node, path: String) throws(ConfigError) -> GovernanceConfig {
        var result = GovernanceConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "graphql", "audit"], in: map, path: path)
        if let v = map["enabled"] { result.enabled = try bool(v, path: "\(path).enabled") }
        if let graphql = map["graphql"] {
            let graphPath = "\(path).graphql"
            let graphMap = try mapping(graphql, path: graphPath)
            try expectOnly(["endpoint", "authentication"], in: graphMap, path: graphPath)
            if let v = graphMap["endpoint"] { result.graphQLEndpoint = try string(v, path: "\(graphPath).endpoint") }
            if let auth = graphMap["authentication"] {
                let authPath = "\(graphPath).authentication"
                let authMap = try mapping(auth, path: authPath)
                try expectOnly(["type", "client_id", "client_secret", "token_url"], in: authMap, path: authPath)
                if let type = authMap["type"], try string(type, path: "\(authPath).type") != "oauth2" {
                    throw error(type, "\(authPath).type", "only oauth2 is supported")
                }
                if let v = authMap["client_id"] { result.graphQLClientID = try string(v, path: "\(authPath).client_id") }
                if let v = authMap["client_secret"] {
                    result.graphQLClientSecret = try string(v, path: "\(authPath).client_secret")
                }
                if let v = authMap["token_url"] { result.graphQLTokenURL = try string(v, path: "\(authPath).token_url") }
            }
        }
        if let audit = map["audit"] {
            let auditPath = "\(path).audit"
            let auditMap = try mapping(audit, path: auditPath)
            try expectOnly(["endpoint", "authentication", "push_events", "batching", "timeout"], in: auditMap,
                           path: auditPath)
            if let v = auditMap["endpoint"] { result.auditEndpoint = try string(v, path: "\(auditPath).endpoint") }
            if let v = auditMap["timeout"] { result.timeoutSeconds = max(0.001, try duration(v, path: "\(auditPath).timeout")) }
            if let auth = auditMap["authentication"] {
                let authPath = "\(auditPath).authentication"
                let authMap = try mapping(auth, path: authPath)
                try expectOnly(["type", "api_key"], in: authMap, path: authPath)
                if let type = authMap["type"], try string(type, path: "\(authPath).type") != "api_key" {
                    throw error(type, "\(authPath).type", "only api_key is supported")
                }
                if let v = authMap["api_key"] { result.apiKey = try string(v, path: "\(authPath).api_key") }
            }
            if let events = auditMap["push_events"] {
                let eventsPath = "\(auditPath).push_events"
                var chosen = Set<GovernanceEventType>()
                for item in try nodes(events, path: eventsPath) {
                    let raw = try string(item, path: eventsPath)
                    guard let type = GovernanceEventType(rawValue: raw) else {
                        throw error(item, eventsPath, "unknown event \"\(raw)\" (known: "
                                    + GovernanceEventType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                    }
                    chosen.insert(type)
                }
                result.pushEvents = chosen
            }
            if let batching = auditMap["batching"] {
                let batchPath = "\(auditPath).batching"
                let batchMap = try mapping(batching, path: batchPath)
                try expectOnly(["enabled", "max_batch_size", "max_wait_ms"], in: batchMap, path: batchPath)
                if let v = batchMap["enabled"] { result.batchingEnabled = try bool(v, path: "\(batchPath).enabled") }
                if let v = batchMap["max_batch_size"] {
                    let size = try number(v, path: "\(batchPath).max_batch_size")
                    guard size >= 1, size <= 1000, size == size.rounded() else {
                        throw error(v, "\(batchPath).max_batch_size", "must be a whole number from 1 to 1000")
                    }
                    result.maxBatchSize = Int(size)
                }
                if let v = batchMap["max_wait_ms"] {
                    let wait = try number(v, path: "\(batchPath).max_wait_ms")
                    guard wait >= 0 else { throw error(v, "\(batchPath).max_wait_ms", "must not be negative") }
                    result.maxWaitSeconds = wait / 1000
                }
            }
        }
        if result.enabled && result.auditURL == nil && map["audit"] != nil {
            throw error(node, "\(path).audit.endpoint", "needs the URL audit events are POSTed to")
        }
        return result
    }

    func readJira(_ node: Node, path: String) throws(ConfigError) -> JiraConfig {
        var result = JiraConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "base_url", "authentication", "project_mapping", "field_mapping", "sync",
                        "incident_id_field", "create_on", "timeout"], in: map, path: path)
        if let v = map["timeout"] { result.timeoutSeconds = max(0.001, try duration(v, path: "\(path).timeout")) }
        if let v = map["enabled"] { result.enabled = try bool(v, path: "\(path).enabled") }
        if let v = map["base_url"] {
            let url = try string(v, path: "\(path).base_url")
            result.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if result.enabled && result.baseURL.isEmpty { throw error(node, "\(path).base_url", "is needed") }
        if let v = map["incident_id_field"] { result.incidentIDField = try string(v, path: "\(path).incident_id_field") }
        if let auth = map["authentication"] {
            let authPath = "\(path).authentication"
            let authMap = try mapping(auth, path: authPath)
            try expectOnly(["type", "username", "api_token"], in: authMap, path: authPath)
            if let type = authMap["type"], try string(type, path: "\(authPath).type") != "basic" {
                throw error(type, "\(authPath).type", "only basic (email and API token) is supported")
            }
            if let v = authMap["username"] { result.username = try string(v, path: "\(authPath).username") }
            if let v = authMap["api_token"] { result.apiToken = try string(v, path: "\(authPath).api_token") }
        }
        if let routes = map["project_mapping"] {
            result.projectMapping = []
            for (index, item) in try nodes(routes, path: "\(path).project_mapping").enumerated() {
                let itemPath = "\(path).project_mapping[\(index)]"
                let route = try mapping(item, path: itemPath)
                try expectOnly(["category", "project_key", "issue_type", "default"], in: route, path: itemPath)
                guard let keyNode = route["project_key"], let typeNode = route["issue_type"] else {
                    throw error(item, itemPath, "needs project_key and issue_type")
                }
                let projectKey = try string(keyNode, path: "\(itemPath).project_key")
                let issueType = try string(typeNode, path: "\(itemPath).issue_type")
                // The guide writes the default as `- default:` with project_key and issue_type beside it.
                if route["default"] != nil {
                    result.defaultRoute = JiraProjectRoute(categories: [], projectKey: projectKey, issueType: issueType)
                    continue
                }
                guard let categoryNode = route["category"] else { throw error(item, itemPath, "needs category or default") }
                var categories = Set<String>()
                for category in try oneOrMany(categoryNode, path: "\(itemPath).category") {
                    categories.insert(try string(category, path: "\(itemPath).category"))
                }
                result.projectMapping.append(
                    JiraProjectRoute(categories: categories, projectKey: projectKey, issueType: issueType))
            }
        }
        if let fields = map["field_mapping"] {
            let fieldsPath = "\(path).field_mapping"
            let fieldsMap = try mapping(fields, path: fieldsPath)
            try expectOnly(["severity", "priority"], in: fieldsMap, path: fieldsPath)
            if let v = fieldsMap["severity"] { result.severityNames = try priorityNames(v, path: "\(fieldsPath).severity") }
            if let v = fieldsMap["priority"] { result.priorityNames = try priorityNames(v, path: "\(fieldsPath).priority") }
        }
        if let create = map["create_on"] {
            let createPath = "\(path).create_on"
            let createMap = try mapping(create, path: createPath)
            try expectOnly(["severity"], in: createMap, path: createPath)
            if let v = createMap["severity"] {
                var chosen = Set<Priority>()
                for item in try oneOrMany(v, path: "\(createPath).severity") {
                    let raw = try string(item, path: "\(createPath).severity")
                    guard let priority = Priority(name: raw) else {
                        throw error(item, "\(createPath).severity", "expected P0 … P4 (got \"\(raw)\")")
                    }
                    chosen.insert(priority)
                }
                result.createPriorities = chosen
            }
        }
        if let sync = map["sync"] {
            let syncPath = "\(path).sync"
            let syncMap = try mapping(sync, path: syncPath)
            try expectOnly(["enabled", "bidirectional", "sync_interval_seconds", "status_map", "transitions"],
                           in: syncMap, path: syncPath)
            if let v = syncMap["enabled"] { result.syncEnabled = try bool(v, path: "\(syncPath).enabled") }
            if let v = syncMap["bidirectional"] { result.bidirectional = try bool(v, path: "\(syncPath).bidirectional") }
            if let v = syncMap["sync_interval_seconds"] {
                let seconds = try number(v, path: "\(syncPath).sync_interval_seconds")
                guard seconds > 0 else { throw error(v, "\(syncPath).sync_interval_seconds", "must be greater than 0") }
                result.syncIntervalSeconds = seconds
            }
            if let v = syncMap["status_map"] {
                result.statusMap = [:]
                for (key, value) in try pairs(v, path: "\(syncPath).status_map") {
                    let jiraStatus = try string(key, path: "\(syncPath).status_map")
                    let ours = try string(value, path: "\(syncPath).status_map.\(jiraStatus)")
                    guard IncidentStatus(rawValue: ours) != nil else {
                        throw error(value, "\(syncPath).status_map.\(jiraStatus)",
                                    "unknown status \"\(ours)\" (NEW, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED)")
                    }
                    result.statusMap[jiraStatus] = ours
                }
            }
            if let v = syncMap["transitions"] {
                result.transitions = [:]
                for (key, value) in try pairs(v, path: "\(syncPath).transitions") {
                    let ours = try string(key, path: "\(syncPath).transitions")
                    guard IncidentStatus(rawValue: ours) != nil else {
                        throw error(key, "\(syncPath).transitions.\(ours)", "unknown status \"\(ours)\"")
                    }
                    result.transitions[ours] = try string(value, path: "\(syncPath).transitions.\(ours)")
                }
            }
        }
        return result
    }

    /// `P0: "Highest"` … as a priority → name table.
    private func priorityNames(_ node: Node, path: String) throws(ConfigError) -> [Priority: String] {
        var result: [Priority: String] = [:]
        for (key, value) in try pairs(node, path: path) {
            let raw = try string(key, path: path)
            guard let priority = Priority(name: raw) else { throw error(key, "\(path).\(raw)", "expected P0 … P4") }
            result[priority] = try string(value, path: "\(path).\(raw)")
        }
        return result
    }
}
