// Reads the config blocks of what acts on the world: `notifications` (PagerDuty, Slack), `integrations.webhooks`,
// `auto_remediation.executors` and `jobs`. As strict as the rest: an unknown key names itself.
import Yams

extension ConfigReader {
    /// `identities`: the configured identity names, which Slack's `user_mapping` must name.
    func readNotifications(_ node: Node, identities: Set<String>) throws(ConfigError) -> NotificationsConfig {
        var result = NotificationsConfig()
        let map = try mapping(node, path: "notifications")
        try expectOnly(["pagerduty", "slack"], in: map, path: "notifications")
        if let pagerDuty = map["pagerduty"] { result.pagerDuty = try readPagerDuty(pagerDuty) }
        if let slack = map["slack"] { result.slack = try readSlack(slack, identities: identities) }
        return result
    }

    private func readPagerDuty(_ node: Node) throws(ConfigError) -> PagerDutyConfig {
        let path = "notifications.pagerduty"
        var result = PagerDutyConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "endpoint", "api_key", "integration_key", "service_routing", "auto_resolve",
                        "escalate_on_timeout", "escalation_timeout_minutes", "events_per_minute"], in: map, path: path)
        result.enabled = try map["enabled"].map { n throws(ConfigError) in
            try bool(n, path: "\(path).enabled")
        } ?? true
        if let v = map["endpoint"] { result.endpoint = try string(v, path: "\(path).endpoint") }
        if let v = map["integration_key"] { result.integrationKey = try string(v, path: "\(path).integration_key") }
        if let v = map["auto_resolve"] { result.autoResolve = try bool(v, path: "\(path).auto_resolve") }
        if let v = map["escalate_on_timeout"] {
            result.escalateOnTimeout = try bool(v, path: "\(path).escalate_on_timeout")
        }
        if let v = map["escalation_timeout_minutes"] {
            result.escalationTimeoutMinutes = try positive(v, path: "\(path).escalation_timeout_minutes")
        }
        if let v = map["events_per_minute"] {
            result.eventsPerMinute = try positive(v, path: "\(path).events_per_minute")
        }
        if let routes = map["service_routing"] {
            for (index, item) in try nodes(routes, path: "\(path).service_routing").enumerated() {
                let itemPath = "\(path).service_routing[\(index)]"
                let route = try mapping(item, path: itemPath)
                try expectOnly(["severity", "service_id", "integration_key", "routing_key", "default"], in: route,
                               path: itemPath)
                if let fallback = route["default"] {
                    result.serviceRouting.append(PagerDutyRoute(
                        priorities: [], integrationKey: try string(fallback, path: "\(itemPath).default")))
                    continue
                }
                // Events API v2 routes by a service's integration key; `service_id` is the guide's older name for
                // the same value, still read so configs written from the guide keep loading.
                let names = ["integration_key", "routing_key", "service_id"].filter { route[$0] != nil }
                guard let name = names.first, let keyNode = route[name] else {
                    throw error(item, itemPath, "needs integration_key (or routing_key) or default")
                }
                guard names.count == 1 else {
                    throw error(item, itemPath, "gives both \(names.joined(separator: " and ")); keep one")
                }
                result.serviceRouting.append(PagerDutyRoute(
                    priorities: try priorities(route["severity"], path: "\(itemPath).severity"),
                    integrationKey: try string(keyNode, path: "\(itemPath).\(name)")))
            }
        }
        return result
    }

    private func readSlack(_ node: Node, identities: Set<String>) throws(ConfigError) -> SlackConfig {
        let path = "notifications.slack"
        var result = SlackConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "webhook_url", "bot_token", "channel_routing", "message_format", "mention_on_create",
                        "mention_groups", "signing_secret", "user_mapping"], in: map, path: path)
        result.enabled = try map["enabled"].map { n throws(ConfigError) in
            try bool(n, path: "\(path).enabled")
        } ?? true
        if let v = map["webhook_url"] { result.webhookURL = try string(v, path: "\(path).webhook_url") }
        if let v = map["message_format"], try string(v, path: "\(path).message_format") != "blocks" {
            throw error(v, "\(path).message_format", "only blocks is supported")
        }
        if let v = map["signing_secret"] {
            let text = try string(v, path: "\(path).signing_secret")
            // A literal secret would sit in a file that is read, copied and committed; only a reference is taken.
            guard secretReferenceName(text) != nil else {
                throw error(v, "\(path).signing_secret", "must be a ${VARIABLE} reference, not the secret itself")
            }
            result.signingSecret = text
        }
        if let mapping = map["user_mapping"] {
            for (keyNode, value) in try pairs(mapping, path: "\(path).user_mapping") {
                let user = try string(keyNode, path: "\(path).user_mapping")
                let identity = try string(value, path: "\(path).user_mapping.\(user)")
                // Caught at start-up, not at the first button press.
                guard identities.contains(identity) else {
                    throw error(value, "\(path).user_mapping.\(user)", "\"\(identity)\" is not a configured identity "
                                + "(known: \(identities.sorted().joined(separator: ", ")))")
                }
                result.userMapping[user] = identity
            }
        }
        if let v = map["mention_on_create"] { result.mentionOnCreate = try bool(v, path: "\(path).mention_on_create") }
        if let groups = map["mention_groups"] {
            for (keyNode, value) in try pairs(groups, path: "\(path).mention_groups") {
                let raw = try string(keyNode, path: "\(path).mention_groups")
                guard let priority = Priority(name: raw) else {
                    throw error(keyNode, "\(path).mention_groups.\(raw)", "expected P0 … P4")
                }
                result.mentionGroups[priority] = try strings(value, path: "\(path).mention_groups.\(raw)")
            }
        }
        if let routes = map["channel_routing"] {
            for (index, item) in try nodes(routes, path: "\(path).channel_routing").enumerated() {
                let itemPath = "\(path).channel_routing[\(index)]"
                let route = try mapping(item, path: itemPath)
                try expectOnly(["severity", "category", "channel", "default"], in: route, path: itemPath)
                if let fallback = route["default"] {
                    result.defaultChannel = try string(fallback, path: "\(itemPath).default")
                    continue
                }
                guard let channel = route["channel"] else { throw error(item, itemPath, "needs channel or default") }
                result.channelRouting.append(SlackChannelRoute(
                    priorities: try priorities(route["severity"], path: "\(itemPath).severity"),
                    categories: Set(try route["category"].map { n throws(ConfigError) in
                        try oneOrMany(n, path: "\(itemPath).category").map { n throws(ConfigError) in
                            try string(n, path: "\(itemPath).category")
                        }
                    } ?? []),
                    channel: try string(channel, path: "\(itemPath).channel")))
            }
        }
        return result
    }

    func readWebhooks(_ node: Node, path: String) throws(ConfigError) -> [WebhookConfig] {
        var result: [WebhookConfig] = []
        for (index, item) in try nodes(node, path: path).enumerated() {
            let itemPath = "\(path)[\(index)]"
            let map = try mapping(item, path: itemPath)
            try expectOnly(["name", "enabled", "url", "authentication", "triggers", "method", "headers",
                            "payload_template", "retry", "timeout_ms", "signing_secret"], in: map, path: itemPath)
            guard let nameNode = map["name"], let urlNode = map["url"] else {
                throw error(item, itemPath, "needs name and url")
            }
            var webhook = WebhookConfig(name: try string(nameNode, path: "\(itemPath).name"),
                                        url: try string(urlNode, path: "\(itemPath).url"))
            guard !result.contains(where: { $0.name == webhook.name }) else {
                throw error(nameNode, "\(itemPath).name", "\"\(webhook.name)\" is used twice")
            }
            if let v = map["enabled"] { webhook.enabled = try bool(v, path: "\(itemPath).enabled") }
            if let v = map["method"] { webhook.method = try string(v, path: "\(itemPath).method").uppercased() }
            if let v = map["payload_template"] {
                webhook.payloadTemplate = try string(v, path: "\(itemPath).payload_template")
            }
            if let v = map["signing_secret"] {
                webhook.signingSecret = try string(v, path: "\(itemPath).signing_secret")
            }
            if let v = map["timeout_ms"] {
                webhook.timeoutSeconds = try positive(v, path: "\(itemPath).timeout_ms") / 1000
            }
            if let headers = map["headers"] {
                for (key, value) in try pairs(headers, path: "\(itemPath).headers") {
                    let name = try string(key, path: "\(itemPath).headers")
                    webhook.headers[name] = try string(value, path: "\(itemPath).headers.\(name)")
                }
            }
            if let auth = map["authentication"] {
                let authPath = "\(itemPath).authentication"
                let authMap = try mapping(auth, path: authPath)
                try expectOnly(["type", "token"], in: authMap, path: authPath)
                if let type = authMap["type"], try string(type, path: "\(authPath).type") != "bearer" {
                    throw error(type, "\(authPath).type", "only bearer is supported")
                }
                if let token = authMap["token"] { webhook.bearerToken = try string(token, path: "\(authPath).token") }
            }
            if let retry = map["retry"] {
                let retryPath = "\(itemPath).retry"
                let retryMap = try mapping(retry, path: retryPath)
                try expectOnly(["max_attempts", "backoff"], in: retryMap, path: retryPath)
                if let v = retryMap["max_attempts"] {
                    let attempts = try positive(v, path: "\(retryPath).max_attempts")
                    guard attempts == attempts.rounded() else {
                        throw error(v, "\(retryPath).max_attempts", "must be a whole number")
                    }
                    webhook.maxAttempts = Int(attempts)
                }
                if let v = retryMap["backoff"], try string(v, path: "\(retryPath).backoff") != "exponential" {
                    throw error(v, "\(retryPath).backoff", "only exponential is supported")
                }
            }
            if let triggers = map["triggers"] {
                let known = ["incident_created", "incident_resolved", "sla_breached", "escalated"]
                for (triggerIndex, triggerNode) in try nodes(triggers, path: "\(itemPath).triggers").enumerated() {
                    let triggerPath = "\(itemPath).triggers[\(triggerIndex)]"
                    let triggerMap = try mapping(triggerNode, path: triggerPath)
                    try expectOnly(["event", "conditions"], in: triggerMap, path: triggerPath)
                    guard let eventNode = triggerMap["event"] else {
                        throw error(triggerNode, triggerPath, "needs event")
                    }
                    let event = try string(eventNode, path: "\(triggerPath).event")
                    guard known.contains(event) else {
                        throw error(eventNode, "\(triggerPath).event",
                                    "unknown event (known: \(known.joined(separator: ", ")))")
                    }
                    var priorities = Set<Priority>()
                    if let conditions = triggerMap["conditions"] {
                        let conditionsMap = try mapping(conditions, path: "\(triggerPath).conditions")
                        try expectOnly(["severity"], in: conditionsMap, path: "\(triggerPath).conditions")
                        priorities = try self.priorities(conditionsMap["severity"],
                                                         path: "\(triggerPath).conditions.severity")
                    }
                    webhook.triggers.append(WebhookTriggerConfig(event: event, priorities: priorities))
                }
            }
            result.append(webhook)
        }
        return result
    }

    func readExecutors(_ node: Node, path: String) throws(ConfigError) -> [String: ExecutorConfig] {
        var result: [String: ExecutorConfig] = [:]
        for (actionNode, body) in try pairs(node, path: path) {
            let action = try string(actionNode, path: path)
            let itemPath = "\(path).\(action)"
            let map = try mapping(body, path: itemPath)
            try expectOnly(["url", "signing_secret", "timeout", "max_attempts"], in: map, path: itemPath)
            guard let url = map["url"], let secret = map["signing_secret"] else {
                throw error(body, itemPath, "needs url and signing_secret (e.g. ${SHIELD_ADMIN_SECRET})")
            }
            var executor = ExecutorConfig(action: action, url: try string(url, path: "\(itemPath).url"),
                                          signingSecret: try string(secret, path: "\(itemPath).signing_secret"))
            if let v = map["timeout"] { executor.timeoutSeconds = try duration(v, path: "\(itemPath).timeout") }
            if let v = map["max_attempts"] {
                executor.maxAttempts = Int(try positive(v, path: "\(itemPath).max_attempts"))
            }
            result[action] = executor
        }
        return result
    }

    func readJobs(_ node: Node) throws(ConfigError) -> JobRunnerConfig {
        let path = "jobs"
        var result = JobRunnerConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "workers", "poll_interval", "lease", "retry_base", "retry_max", "breaker_threshold",
                        "breaker_cool_off"], in: map, path: path)
        if let v = map["retry_base"] { result.retryBaseSeconds = try duration(v, path: "\(path).retry_base") }
        if let v = map["retry_max"] { result.retryMaxSeconds = try duration(v, path: "\(path).retry_max") }
        if let v = map["enabled"] { result.enabled = try bool(v, path: "\(path).enabled") }
        if let v = map["workers"] { result.workers = max(1, Int(try positive(v, path: "\(path).workers"))) }
        if let v = map["poll_interval"] { result.pollIntervalSeconds = try duration(v, path: "\(path).poll_interval") }
        if let v = map["lease"] { result.leaseSeconds = max(1, try duration(v, path: "\(path).lease")) }
        if let v = map["breaker_threshold"] {
            result.breakerThreshold = max(1, Int(try positive(v, path: "\(path).breaker_threshold")))
        }
        if let v = map["breaker_cool_off"] {
            result.breakerCoolOffSeconds = try duration(v, path: "\(path).breaker_cool_off")
        }
        return result
    }

    /// `severity: [P0, P1]` (or severity names) as priorities; absent means any.
    private func priorities(_ node: Node?, path: String) throws(ConfigError) -> Set<Priority> {
        guard let node else { return [] }
        var result = Set<Priority>()
        for item in try oneOrMany(node, path: path) {
            let raw = try string(item, path: path)
            if let name = SeverityName(raw) {
                // A word stands for the level the configured mapping gives it, as an event's word does.
                result.insert(severityMapping.level(for: name))
            } else {
                throw error(item, path, "unknown severity \"\(raw)\" (P0…P4 or \(Severity.allNames))")
            }
        }
        return result
    }

    private func positive(_ node: Node, path: String) throws(ConfigError) -> Double {
        let value = try number(node, path: path)
        guard value > 0 else { throw error(node, path, "must be greater than 0") }
        return value
    }
}
