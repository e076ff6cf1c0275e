// Reads ServiceConfig from YAML. Strict on purpose: an unknown key is almost always a typo that would
// otherwise silently turn a security setting off, so it is a start-up error naming the key.
import Foundation
import Yams

extension ServiceConfig {
    /// Parses a config file's text; keys it does not set keep their `defaults` values.
    public static func parse(yaml text: String, file: String) throws(ConfigError) -> ServiceConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return .defaults }
            root = node
        } catch let error as YamlError {
            throw ConfigError(file: file, key: "", problem: "not valid YAML: \(error)")
        } catch {
            throw ConfigError(file: file, key: "", problem: "not valid YAML")
        }
        var reader = ConfigReader(file: file)
        return try reader.read(root)
    }
}

/// Walks the YAML nodes, keeping the key path for error messages.
struct ConfigReader {
    let file: String
    /// The file's `severity_mapping` once read: severity words in rule and routing conditions mean the level it
    /// gives them, as events' words do.
    var severityMapping = ServiceConfig.defaults.severityMapping

    init(file: String) {
        self.file = file
    }

    mutating func read(_ root: Node) throws(ConfigError) -> ServiceConfig {
        var config = ServiceConfig.defaults
        let top = try mapping(root, path: "")
        try expectOnly(["server", "identities", "severity_mapping", "integrations", "tokens", "notifications", "jobs",
                        "correlation"],
                       in: top, path: "")
        if let server = top["server"] { try readServer(server, into: &config) }
        if let identities = top["identities"] { config.identities = try readIdentities(identities) }
        if let tokens = top["tokens"] { config.tokens = try readTokens(tokens, identities: config.identities) }
        if let mapping = top["severity_mapping"] { config.severityMapping = try readSeverityMapping(mapping) }
        severityMapping = config.severityMapping
        if let integrations = top["integrations"] { try readIntegrations(integrations, into: &config) }
        if let notifications = top["notifications"] { config.notifications = try readNotifications(
            notifications, identities: Set(config.identities.map(\.name))) }
        if let jobs = top["jobs"] { config.jobs = try readJobs(jobs) }
        if let correlation = top["correlation"] { config.correlation = try readCorrelation(correlation) }
        return config
    }

    private func readServer(_ node: Node, into config: inout ServiceConfig) throws(ConfigError) {
        let path = "server"
        let map = try mapping(node, path: path)
        try expectOnly(["listen", "http_listen", "public_url", "tls", "database_url"], in: map, path: path)
        if let listen = map["listen"] {
            config.listen = try strings(listen, path: "\(path).listen")
            if config.listen.isEmpty { throw error(listen, "\(path).listen", "needs at least one host:port") }
        }
        if let listen = map["http_listen"] { config.httpListen = try strings(listen, path: "\(path).http_listen") }
        if let url = map["public_url"] { config.publicURL = try string(url, path: "\(path).public_url") }
        if let database = map["database_url"] { config.databaseURL = try string(database, path: "\(path).database_url") }
        if let tls = map["tls"] {
            let tlsPath = "\(path).tls"
            let files = try mapping(tls, path: tlsPath)
            try expectOnly(["cert_chain", "private_key", "client_ca"], in: files, path: tlsPath)
            if let v = files["cert_chain"] { config.tls.certificateChain = try string(v, path: "\(tlsPath).cert_chain") }
            if let v = files["private_key"] { config.tls.privateKey = try string(v, path: "\(tlsPath).private_key") }
            if let v = files["client_ca"] { config.tls.clientCA = try string(v, path: "\(tlsPath).client_ca") }
        }
    }

    private func readPermissions(_ list: Node, path: String) throws(ConfigError) -> Set<Permission> {
        var permissions = Set<Permission>()
        for item in try nodes(list, path: path) {
            let raw = try string(item, path: path)
            guard let permission = Permission(rawValue: raw) else {
                let known = Permission.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(item, path, "unknown permission \"\(raw)\" (known: \(known))")
            }
            permissions.insert(permission)
        }
        return permissions
    }

    /// `rate_limit: {requests_per_minute, burst}` (burst defaults to a tenth of a minute's requests).
    private func readRateLimit(_ rate: Node, path ratePath: String) throws(ConfigError) -> RateLimit {
        let rateMap = try mapping(rate, path: ratePath)
        try expectOnly(["requests_per_minute", "burst"], in: rateMap, path: ratePath)
        guard let rpmNode = rateMap["requests_per_minute"] else {
            throw error(rate, ratePath, "needs requests_per_minute")
        }
        let rpm = try number(rpmNode, path: "\(ratePath).requests_per_minute")
        let burst = try rateMap["burst"].map { n throws(ConfigError) in try number(n, path: "\(ratePath).burst") } ?? max(1, rpm / 10)
        guard rpm > 0, burst >= 1 else { throw error(rate, ratePath, "requests_per_minute must be > 0 and burst >= 1") }
        return RateLimit(requestsPerMinute: rpm, burst: burst)
    }

    private func readIdentities(_ node: Node) throws(ConfigError) -> [IdentityPolicy] {
        var policies: [IdentityPolicy] = []
        for (nameNode, body) in try pairs(node, path: "identities") {
            let name = try string(nameNode, path: "identities")
            let path = "identities.\(name)"
            let map = try mapping(body, path: path)
            try expectOnly(["common_names", "uris", "dns_names", "permissions", "rate_limit", "sources"], in: map,
                           path: path)
            let permissions = try map["permissions"].map { n throws(ConfigError) in
                try readPermissions(n, path: "\(path).permissions")
            } ?? []
            var limit: RateLimit?
            if let rate = map["rate_limit"], !isNull(rate) { limit = try readRateLimit(rate, path: "\(path).rate_limit") }
            let sources = try map["sources"].map { n throws(ConfigError) in try strings(n, path: "\(path).sources") }
            if let sources, let node = map["sources"] {
                guard !sources.isEmpty else {
                    throw error(node, "\(path).sources", "must name at least one source (or \"*\" for any)")
                }
                guard !sources.contains(where: \.isEmpty) else {
                    throw error(node, "\(path).sources", "sources must not be empty strings")
                }
            }
            policies.append(IdentityPolicy(
                name: name,
                commonNames: try map["common_names"].map { n throws(ConfigError) in try strings(n, path: "\(path).common_names") } ?? [],
                uris: try map["uris"].map { n throws(ConfigError) in try strings(n, path: "\(path).uris") } ?? [],
                dnsNames: try map["dns_names"].map { n throws(ConfigError) in try strings(n, path: "\(path).dns_names") } ?? [],
                permissions: permissions,
                rateLimit: limit,
                sources: sources))
        }
        return policies
    }

    /// The `tokens` block. API keys appear only as SHA-256 hashes and HS256 secrets only as the name of an
    /// environment variable, so the file never holds a credential.
    private func readTokens(_ node: Node, identities: [IdentityPolicy]) throws(ConfigError) -> TokenSettings {
        let path = "tokens"
        let map = try mapping(node, path: path)
        try expectOnly(["api_keys", "jwt"], in: map, path: path)
        var settings = TokenSettings()
        let known = Set(identities.map(\.name))
        for (index, item) in try nodes(map["api_keys"] ?? Node([Node]()), path: "\(path).api_keys").enumerated() {
            let itemPath = "\(path).api_keys[\(index)]"
            let key = try mapping(item, path: itemPath)
            try expectOnly(["identity", "sha256"], in: key, path: itemPath)
            guard let identityNode = key["identity"], let hashNode = key["sha256"] else {
                throw error(item, itemPath, "needs identity and sha256 (the hex SHA-256 of the key, never the key)")
            }
            let identity = try string(identityNode, path: "\(itemPath).identity")
            guard known.contains(identity) else {
                let names = known.sorted().joined(separator: ", ")
                throw error(identityNode, "\(itemPath).identity",
                            "\"\(identity)\" is not a configured identity (known: \(names))")
            }
            guard let hash = Self.hexBytes(try string(hashNode, path: "\(itemPath).sha256")), hash.count == 32 else {
                throw error(hashNode, "\(itemPath).sha256",
                            "must be 64 hex digits: the SHA-256 of the key (printf %s \"$KEY\" | sha256sum)")
            }
            guard !settings.apiKeys.contains(where: { $0.sha256 == hash }) else {
                throw error(hashNode, "\(itemPath).sha256", "the same key is listed twice")
            }
            settings.apiKeys.append(APIKeyEntry(sha256: hash, identity: identity))
        }
        if let jwtNode = map["jwt"] { settings.jwt = try readJWT(jwtNode, path: "\(path).jwt", known: known) }
        return settings
    }

    private func readJWT(_ node: Node, path: String, known: Set<String>) throws(ConfigError) -> JWTSettings {
        let map = try mapping(node, path: path)
        try expectOnly(["issuer", "audience", "identity_claim", "leeway", "max_lifetime", "keys"], in: map, path: path)
        var settings = JWTSettings(keys: [])
        if let v = map["issuer"] { settings.issuer = try string(v, path: "\(path).issuer") }
        if let v = map["audience"] { settings.audience = try string(v, path: "\(path).audience") }
        if let v = map["identity_claim"] {
            settings.identityClaim = try string(v, path: "\(path).identity_claim")
            if settings.identityClaim.isEmpty { throw error(v, "\(path).identity_claim", "must not be empty") }
        }
        if let v = map["leeway"] {
            settings.leewaySeconds = try duration(v, path: "\(path).leeway")
            guard settings.leewaySeconds <= 300 else {
                throw error(v, "\(path).leeway", "at most 5m: leeway is for clock skew, not for token lifetime")
            }
        }
        if let v = map["max_lifetime"] {
            let seconds = try duration(v, path: "\(path).max_lifetime")
            guard seconds > 0 else { throw error(v, "\(path).max_lifetime", "must be longer than 0s (e.g. 1h)") }
            settings.maxLifetimeSeconds = seconds
        }
        guard let keysNode = map["keys"] else { throw error(node, path, "needs keys (at least one)") }
        for (index, item) in try nodes(keysNode, path: "\(path).keys").enumerated() {
            let itemPath = "\(path).keys[\(index)]"
            let key = try mapping(item, path: itemPath)
            try expectOnly(["algorithm", "key_id", "public_key_file", "secret_env", "identities"], in: key, path: itemPath)
            guard let algorithmNode = key["algorithm"] else { throw error(item, itemPath, "needs an algorithm") }
            let name = try string(algorithmNode, path: "\(itemPath).algorithm")
            guard let algorithm = JWTAlgorithm(rawValue: name.uppercased()) else {
                throw error(algorithmNode, "\(itemPath).algorithm", "must be RS256, ES256 or HS256 (got \"\(name)\")")
            }
            let source: JWTKey.Source
            switch (algorithm, key["public_key_file"], key["secret_env"]) {
            case (.hs256, nil, let env?):
                source = .secretEnvironment(try string(env, path: "\(itemPath).secret_env"))
            case (.hs256, _, _):
                throw error(item, itemPath, "HS256 needs secret_env (the environment variable holding the secret) "
                            + "and no public_key_file; secrets never go in this file")
            case (_, let file?, nil):
                source = .publicKeyFile(try string(file, path: "\(itemPath).public_key_file"))
            default:
                throw error(item, itemPath, "\(algorithm.rawValue) needs public_key_file (a PEM public key) and no "
                            + "secret_env")
            }
            let keyID = try key["key_id"].map { n throws(ConfigError) in try string(n, path: "\(itemPath).key_id") }
            var identities: Set<String>?
            if let listNode = key["identities"] {
                let names = try strings(listNode, path: "\(itemPath).identities")
                guard !names.isEmpty else {
                    throw error(listNode, "\(itemPath).identities", "must name at least one identity (leave it out to allow any)")
                }
                for name in names where !known.contains(name) {
                    throw error(listNode, "\(itemPath).identities",
                                "\"\(name)\" is not a configured identity (known: \(known.sorted().joined(separator: ", ")))")
                }
                identities = Set(names)
            }
            settings.keys.append(JWTKey(algorithm: algorithm, keyID: keyID, source: source, identities: identities))
        }
        if settings.keys.isEmpty { throw error(keysNode, "\(path).keys", "needs at least one key") }
        return settings
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    private func readSeverityMapping(_ node: Node, path top: String = "severity_mapping",
                                     base: [Severity: Priority] = ServiceConfig.defaults.severityMapping)
        throws(ConfigError) -> [Severity: Priority] {
        var result = base
        for (keyNode, value) in try pairs(node, path: top) {
            let name = try string(keyNode, path: top)
            let path = "\(top).\(name)"
            guard let severity = Severity(rawValue: name) else {
                throw error(keyNode, path, "unknown severity (known: \(Severity.allNames))")
            }
            let raw = try string(value, path: path)
            guard let priority = Priority(name: raw) else {
                throw error(value, path, "priority must be one of P0, P1, P2, P3, P4 (got \"\(raw)\")")
            }
            result[severity] = priority
        }
        return result
    }

    private func readIntegrations(_ node: Node, into config: inout ServiceConfig) throws(ConfigError) {
        for (nameNode, body) in try pairs(node, path: "integrations") {
            let name = try string(nameNode, path: "integrations")
            let path = "integrations.\(name)"
            if name == "webhooks" {
                config.webhooks = try readWebhooks(body, path: path)
                continue
            }
            if name == "llm-governance-core" {
                let governance = try readGovernance(body, path: path)
                config.governance = governance.enabled ? governance : nil
                continue
            }
            if name == "jira" {
                let jira = try readJira(body, path: path)
                config.jira = jira.enabled ? jira : nil
                continue
            }
            // Other blocks switched off may stay in a shared config file as the guide writes them (a sentinel
            // block with Sentinel's own keys); llm-shield's is still checked, as it always was.
            let map = try mapping(body, path: path)
            if name != "llm-shield", let enabled = map["enabled"], try bool(enabled, path: "\(path).enabled") == false {
                continue
            }
            // A source block: one the guide names, or any name with an `authentication` (a source of its own).
            guard Self.sourceNames.contains(name) || map["authentication"] != nil else {
                throw error(nameNode, path, "unknown integration (llm-governance-core, jira, webhooks; sources: llm-shield, llm-sentinel, or any name with "
                            + "an authentication block; others may be listed with enabled: false)")
            }
            try readSource(name, body, path: path, into: &config)
        }
    }

    /// The sources the guide names; any other name with an `authentication` block is a source too.
    static let sourceNames: Set<String> = ["llm-shield", "llm-sentinel", "llm-edge-agent"]

    /// One source's block, the same shape for every source: `enabled`, `authentication` (mtls or api_key),
    /// `rate_limit`, `severity_mapping` and `routing` for its own events. `llm-shield`'s block is also where the
    /// service-wide settings live (its routing is the service default; `security`, `sla`, `auto_remediation`),
    /// as in the guide; other sources may not set those.
    private func readSource(_ name: String, _ body: Node, path: String,
                                     into config: inout ServiceConfig) throws(ConfigError) {
        let map = try mapping(body, path: path)
        let serviceWide = name == "llm-shield"
        try expectOnly(["enabled", "authentication", "rate_limit", "severity_mapping", "alert_severity_mapping",
                        "field_mapping", "routing", "security", "auto_remediation", "sla"], in: map, path: path)
        if !serviceWide {
            for key in ["security", "auto_remediation", "sla"] where map[key] != nil {
                throw error(map[key]!, "\(path).\(key)", "only llm-shield's block sets the service-wide \(key)")
            }
        }
        var source = SourceIntegration()
        source.enabled = try map["enabled"].map { n throws(ConfigError) in try bool(n, path: "\(path).enabled") } ?? true
        // Switched off, the block is still checked (a typo stays an error) but none of it is applied.
        let unchanged = config
        defer {
            if !source.enabled { config = unchanged }
            config.sources[name] = source
        }
        if let auth = map["authentication"] {
            let authPath = "\(path).authentication"
            let authMap = try mapping(auth, path: authPath)
            try expectOnly(["type", "ca_cert_path", "verify_client_cert", "api_keys"], in: authMap, path: authPath)
            let type = try authMap["type"].map { n throws(ConfigError) in try string(n, path: "\(authPath).type") } ?? "mtls"
            switch type {
            case "mtls":
                if let keys = authMap["api_keys"] {
                    throw error(keys, "\(authPath).api_keys", "api_keys need type: api_key")
                }
                if let verify = authMap["verify_client_cert"], try bool(verify, path: "\(authPath).verify_client_cert") == false {
                    throw error(verify, "\(authPath).verify_client_cert", "client certificates are always verified; remove the key or set it to true")
                }
                if let ca = authMap["ca_cert_path"] { config.tls.clientCA = try string(ca, path: "\(authPath).ca_cert_path") }
            case "api_key":
                for key in ["ca_cert_path", "verify_client_cert"] where authMap[key] != nil {
                    throw error(authMap[key]!, "\(authPath).\(key)", "belongs to type: mtls")
                }
                guard let keys = authMap["api_keys"] else { throw error(auth, authPath, "type api_key needs api_keys") }
                source.apiKeys = try readSourceKeys(keys, path: "\(authPath).api_keys")
            default:
                throw error(authMap["type"]!, "\(authPath).type", "must be mtls or api_key (got \"\(type)\")")
            }
        }
        if let rate = map["rate_limit"], !isNull(rate) { source.rateLimit = try readRateLimit(rate, path: "\(path).rate_limit") }
        if let mapping = map["severity_mapping"] {
            source.severityMapping = try readSeverityMapping(mapping, path: "\(path).severity_mapping", base: [:])
        }
        if let fields = map["field_mapping"] {
            let fieldsPath = "\(path).field_mapping"
            let known: Set<String> = ["event_id", "title", "severity", "description", "category", "event_type", "timestamp"]
            for (fieldNode, pointerNode) in try pairs(fields, path: fieldsPath) {
                let field = try string(fieldNode, path: fieldsPath)
                let pointer = try string(pointerNode, path: "\(fieldsPath).\(field)")
                guard known.contains(field) || (field.hasPrefix("tags.") && field.count > 5) else {
                    throw error(fieldNode, "\(fieldsPath).\(field)",
                                "unknown event field (known: \(known.sorted().joined(separator: ", ")), tags.<name>)")
                }
                guard pointer.isEmpty || pointer.hasPrefix("/") else {
                    throw error(pointerNode, "\(fieldsPath).\(field)", "a JSON pointer starts with / (got \"\(pointer)\")")
                }
                source.fieldMapping[field] = pointer
            }
        }
        if let alertMapping = map["alert_severity_mapping"] {
            let mappingPath = "\(path).alert_severity_mapping"
            for (labelNode, valueNode) in try pairs(alertMapping, path: mappingPath) {
                let label = try string(labelNode, path: mappingPath).lowercased()
                let value = try string(valueNode, path: "\(mappingPath).\(label)")
                guard SeverityName(value) != nil else {
                    throw error(valueNode, "\(mappingPath).\(label)",
                                "must be a severity word or level (\(SeverityName.allNames)), not \"\(value)\"")
                }
                source.alertSeverityMapping[label] = value
            }
        }
        if let routing = map["routing"] {
            let routingPath = "\(path).routing"
            let r = try mapping(routing, path: routingPath)
            try expectOnly(["default_team", "escalation_policy", "auto_page", "rules", "escalation_policies"],
                           in: r, path: routingPath)
            if !serviceWide {
                for key in ["rules", "escalation_policies"] where r[key] != nil {
                    throw error(r[key]!, "\(routingPath).\(key)", "only llm-shield's block sets the service-wide \(key)")
                }
            }
            if let policies = r["escalation_policies"] {
                config.escalationPolicies = try readEscalationPolicies(
                    policies, path: "\(routingPath).escalation_policies")
            }
            if let list = r["rules"] { config.routingRules = try readRoutingRules(list, path: "\(routingPath).rules") }
            var defaults = serviceWide ? config.routing : ServiceConfig.defaults.routing
            if let v = r["default_team"] { defaults.defaultTeam = try string(v, path: "\(routingPath).default_team") }
            if let v = r["escalation_policy"] { defaults.escalationPolicy = try string(v, path: "\(routingPath).escalation_policy") }
            if let v = r["auto_page"] { defaults.autoPage = try bool(v, path: "\(routingPath).auto_page") }
            if serviceWide { config.routing = defaults } else { source.routing = defaults }
        }
        if let sla = map["sla"] { config.sla = try readSLA(sla, path: "\(path).sla") }
        if let remediation = map["auto_remediation"] {
            config.remediation = try readRemediation(remediation, path: "\(path).auto_remediation")
        }
        if let security = map["security"] {
            let securityPath = "\(path).security"
            let s = try mapping(security, path: securityPath)
            try expectOnly(["redact_pii", "include_request_hash"], in: s, path: securityPath)
            if let v = s["redact_pii"] { config.security.redactPII = try bool(v, path: "\(securityPath).redact_pii") }
            if let v = s["include_request_hash"] {
                config.security.includeRequestHash = try bool(v, path: "\(securityPath).include_request_hash")
            }
        }
    }

    private func readSourceKeys(_ node: Node, path: String) throws(ConfigError) -> [SourceAPIKey] {
        var keys: [SourceAPIKey] = []
        for (index, item) in try nodes(node, path: path).enumerated() {
            let itemPath = "\(path)[\(index)]"
            let map = try mapping(item, path: itemPath)
            try expectOnly(["key_id", "key_hash", "permissions"], in: map, path: itemPath)
            guard let idNode = map["key_id"] else { throw error(item, itemPath, "needs a key_id") }
            guard let hashNode = map["key_hash"] else {
                throw error(item, itemPath, "needs a key_hash (hex SHA-256 of the key, e.g. ${SENTINEL_API_KEY_HASH})")
            }
            let keyID = try string(idNode, path: "\(itemPath).key_id")
            if keys.contains(where: { $0.keyID == keyID }) { throw error(idNode, "\(itemPath).key_id", "is used twice") }
            let permissions = try map["permissions"].map { n throws(ConfigError) in
                try readPermissions(n, path: "\(itemPath).permissions")
            } ?? [.eventCreate]
            keys.append(SourceAPIKey(keyID: keyID, keyHashText: try string(hashNode, path: "\(itemPath).key_hash"),
                                     permissions: permissions))
        }
        if keys.isEmpty { throw error(node, path, "needs at least one key") }
        return keys
    }

    /// `correlation: {enabled, window, group_by, sources: {<source>: {group_by, window}}}`.
    private func readCorrelation(_ node: Node) throws(ConfigError) -> CorrelationConfig {
        let path = "correlation"
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "window", "group_by", "sources"], in: map, path: path)
        var config = CorrelationConfig()
        if let v = map["enabled"] { config.enabled = try bool(v, path: "\(path).enabled") }
        config.defaultRule = try readCorrelationRule(map, path: path, base: config.defaultRule)
        // The block's window is every grouping's unless a source names its own.
        for name in config.sources.keys { config.sources[name]?.windowSeconds = config.defaultRule.windowSeconds }
        if let sources = map["sources"] {
            for (nameNode, body) in try pairs(sources, path: "\(path).sources") {
                let name = try string(nameNode, path: "\(path).sources")
                let rulePath = "\(path).sources.\(name)"
                let ruleMap = try mapping(body, path: rulePath)
                try expectOnly(["window", "group_by"], in: ruleMap, path: rulePath)
                let base = config.sources[name] ?? config.defaultRule
                config.sources[name] = try readCorrelationRule(ruleMap, path: rulePath, base: base)
            }
        }
        return config
    }

    private func readCorrelationRule(_ map: [String: Node], path: String,
                                     base: CorrelationRule) throws(ConfigError) -> CorrelationRule {
        var rule = base
        if let v = map["window"] {
            rule.windowSeconds = try duration(v, path: "\(path).window")
            if rule.windowSeconds <= 0 { throw error(v, "\(path).window", "must be longer than zero") }
        }
        if let v = map["group_by"] {
            var fields: [CorrelationField] = []
            for (index, item) in try nodes(v, path: "\(path).group_by").enumerated() {
                let raw = try string(item, path: "\(path).group_by[\(index)]")
                guard let field = CorrelationField(name: raw) else {
                    throw error(item, "\(path).group_by[\(index)]", "unknown field \"\(raw)\" (known: source, "
                                + "event_type, category, resource.id, severity, tags.<name>)")
                }
                fields.append(field)
            }
            rule.groupBy = fields
        }
        return rule
    }

    private func readRoutingRules(_ node: Node, path: String) throws(ConfigError) -> [RoutingRule] {
        var rules: [RoutingRule] = []
        for (index, item) in try nodes(node, path: path).enumerated() {
            let itemPath = "\(path)[\(index)]"
            let map = try mapping(item, path: itemPath)
            try expectOnly(["name", "conditions", "team", "escalation_policy", "channels"], in: map, path: itemPath)
            guard let team = map["team"] else { throw error(item, itemPath, "needs a team") }
            rules.append(RoutingRule(
                name: try map["name"].map { n throws(ConfigError) in try string(n, path: "\(itemPath).name") } ?? "route#\(index + 1)",
                conditions: try map["conditions"].map { n throws(ConfigError) in try readConditions(n, path: "\(itemPath).conditions") } ?? RuleConditions(),
                team: try string(team, path: "\(itemPath).team"),
                escalationPolicy: try map["escalation_policy"].map { n throws(ConfigError) in try string(n, path: "\(itemPath).escalation_policy") }
                    ?? ServiceConfig.defaults.routing.escalationPolicy,
                channels: try map["channels"].map { n throws(ConfigError) in try strings(n, path: "\(itemPath).channels") } ?? []))
        }
        return rules
    }

    private func readRemediation(_ node: Node, path: String) throws(ConfigError) -> RemediationConfig {
        var result = RemediationConfig()
        let map = try mapping(node, path: path)
        try expectOnly(["enabled", "actions", "blast_radius", "custom_actions", "executors"], in: map, path: path)
        if let executors = map["executors"] {
            result.executors = try readExecutors(executors, path: "\(path).executors")
        }
        result.enabled = try map["enabled"].map { n throws(ConfigError) in try bool(n, path: "\(path).enabled") } ?? true
        if let custom = map["custom_actions"] {
            result.customActions = Set(try strings(custom, path: "\(path).custom_actions"))
        }
        if let caps = map["blast_radius"] {
            for (kindNode, body) in try pairs(caps, path: "\(path).blast_radius") {
                let kind = try string(kindNode, path: "\(path).blast_radius")
                let capPath = "\(path).blast_radius.\(kind)"
                let capMap = try mapping(body, path: capPath)
                try expectOnly(["max_actions", "window"], in: capMap, path: capPath)
                guard let maxNode = capMap["max_actions"], let windowNode = capMap["window"] else {
                    throw error(body, capPath, "needs max_actions and window")
                }
                let maxActions = try number(maxNode, path: "\(capPath).max_actions")
                guard maxActions >= 1, maxActions == maxActions.rounded() else {
                    throw error(maxNode, "\(capPath).max_actions", "must be a whole number >= 1")
                }
                result.blastRadius[kind] = BlastRadiusCap(
                    maxActions: Int(maxActions), windowSeconds: try duration(windowNode, path: "\(capPath).window"))
            }
        }
        var names = Set<String>()
        for (index, item) in try nodes(map["actions"] ?? Node([Node]()), path: "\(path).actions").enumerated() {
            let itemPath = "\(path).actions[\(index)]"
            let rule = try readRemediationRule(item, path: itemPath, index: index, customActions: result.customActions)
            guard names.insert(rule.name).inserted else { throw error(item, "\(itemPath).name", "\"\(rule.name)\" is used twice") }
            result.rules.append(rule)
        }
        let knownKinds = ["block_user", "rate_limit", "webhook"] + result.customActions.sorted()
        for kind in result.blastRadius.keys.sorted() where !knownKinds.contains(kind) {
            do {
                throw ConfigError(file: file, key: "\(path).blast_radius.\(kind)",
                                  problem: "unknown action type (known: \(knownKinds.joined(separator: ", ")))")
            }
        }
        return result
    }

    private func readRemediationRule(_ node: Node, path: String, index: Int, customActions: Set<String>) throws(ConfigError) -> RemediationRule {
        let map = try mapping(node, path: path)
        try expectOnly(["name", "type", "conditions", "parameters", "requires_approval", "approval_ttl", "dry_run",
                        "cooldown", "ttl"], in: map, path: path)
        guard let typeNode = map["type"] else { throw error(node, path, "needs a type") }
        let type = try string(typeNode, path: "\(path).type")
        let kind: RemediationKind
        switch type {
        case "block_user": kind = .blockUser
        case "rate_limit": kind = .rateLimit
        case "webhook": kind = .webhook
        case let name where customActions.contains(name): kind = .custom(name)
        default:
            let known = (["block_user", "rate_limit", "webhook"] + customActions.sorted()).joined(separator: ", ")
            throw error(typeNode, "\(path).type", "unknown action \"\(type)\" (known: \(known); declare custom ones under custom_actions)")
        }
        let name = try map["name"].map { n throws(ConfigError) in try string(n, path: "\(path).name") } ?? "\(type)#\(index + 1)"
        let parameters = try map["parameters"].map { n throws(ConfigError) in try strings(n, path: "\(path).parameters") }
        return RemediationRule(
            name: name, kind: kind,
            conditions: try map["conditions"].map { n throws(ConfigError) in try readConditions(n, path: "\(path).conditions") } ?? RuleConditions(),
            parameters: parameters.map { Array(Set($0 + kind.requiredParameters)).sorted() },
            requiresApproval: try map["requires_approval"].map { n throws(ConfigError) in try bool(n, path: "\(path).requires_approval") } ?? false,
            approvalTTLSeconds: try map["approval_ttl"].map { n throws(ConfigError) in try duration(n, path: "\(path).approval_ttl") } ?? 3600,
            dryRun: try map["dry_run"].map { n throws(ConfigError) in try bool(n, path: "\(path).dry_run") } ?? false,
            cooldownSeconds: try map["cooldown"].map { n throws(ConfigError) in try duration(n, path: "\(path).cooldown") } ?? 300,
            compensateAfterSeconds: try map["ttl"].map { n throws(ConfigError) in try duration(n, path: "\(path).ttl") })
    }

    private func readConditions(_ node: Node, path: String) throws(ConfigError) -> RuleConditions {
        let map = try mapping(node, path: path)
        try expectOnly(["severity", "event_type", "category", "source", "tags"], in: map, path: path)
        var conditions = RuleConditions()
        if let severities = map["severity"] {
            for item in try oneOrMany(severities, path: "\(path).severity") {
                let raw = try string(item, path: "\(path).severity")
                if let name = SeverityName(raw) {
                    // A severity word stands for the level the configured mapping gives it, as an event's word does.
                    conditions.priorities.insert(severityMapping.level(for: name))
                } else {
                    throw error(item, "\(path).severity", "unknown severity \"\(raw)\" (P0…P4 or \(Severity.allNames))")
                }
            }
        }
        if let v = map["event_type"] { conditions.eventTypes = Set(try oneOrMany(v, path: "\(path).event_type").map { n throws(ConfigError) in try string(n, path: "\(path).event_type") }) }
        if let v = map["category"] { conditions.categories = Set(try oneOrMany(v, path: "\(path).category").map { n throws(ConfigError) in try string(n, path: "\(path).category") }) }
        if let v = map["source"] { conditions.sources = Set(try oneOrMany(v, path: "\(path).source").map { n throws(ConfigError) in try string(n, path: "\(path).source") }) }
        if let v = map["tags"] {
            for (key, value) in try pairs(v, path: "\(path).tags") {
                conditions.tags[try string(key, path: "\(path).tags")] = try string(value, path: "\(path).tags")
            }
        }
        return conditions
    }

    // MARK: escalation and SLA timers

    /// `name: {levels: [{targets: [...], timeout: 15m}, ...], repeats: 1}` per policy.
    private func readEscalationPolicies(_ node: Node, path: String) throws(ConfigError) -> [String: EscalationPolicy] {
        var policies: [String: EscalationPolicy] = [:]
        for (nameNode, body) in try pairs(node, path: path) {
            let name = try string(nameNode, path: path)
            let policyPath = "\(path).\(name)"
            let map = try mapping(body, path: policyPath)
            try expectOnly(["levels", "repeats"], in: map, path: policyPath)
            var levels: [EscalationLevel] = []
            for (index, item) in try nodes(map["levels"] ?? Node([Node]()), path: "\(policyPath).levels").enumerated() {
                let levelPath = "\(policyPath).levels[\(index)]"
                let level = try mapping(item, path: levelPath)
                try expectOnly(["targets", "timeout", "integration_key", "routing_key"], in: level, path: levelPath)
                guard let targetsNode = level["targets"], let timeoutNode = level["timeout"] else {
                    throw error(item, levelPath, "needs targets and timeout")
                }
                let integrationKey = try levelIntegrationKey(level, path: levelPath)
                let targets = try strings(targetsNode, path: "\(levelPath).targets")
                let timeout = try duration(timeoutNode, path: "\(levelPath).timeout")
                guard !targets.isEmpty else {
                    throw error(targetsNode, "\(levelPath).targets", "needs at least one target")
                }
                guard timeout > 0 else { throw error(timeoutNode, "\(levelPath).timeout", "must be longer than 0") }
                levels.append(EscalationLevel(targets: targets, timeoutMinutes: timeout / 60,
                                              integrationKey: integrationKey))
            }
            guard !levels.isEmpty else { throw error(body, "\(policyPath).levels", "needs at least one level") }
            let repeats = try map["repeats"].map { n throws(ConfigError) in
                try number(n, path: "\(policyPath).repeats")
            } ?? 0
            guard repeats >= 0, repeats <= 100, repeats == repeats.rounded() else {
                throw error(map["repeats"]!, "\(policyPath).repeats", "must be a whole number from 0 to 100")
            }
            policies[name] = EscalationPolicy(name: name, levels: levels, repeats: Int(repeats))
        }
        return policies
    }

    /// A level's own PagerDuty key: a `${VARIABLE}` reference only, because the policy is frozen into queued jobs
    /// and the timeline names the key by its variable.
    private func levelIntegrationKey(_ level: [String: Node], path: String) throws(ConfigError) -> String? {
        let names = ["integration_key", "routing_key"].filter { level[$0] != nil }
        guard let name = names.first, let node = level[name] else { return nil }
        guard names.count == 1 else { throw error(node, path, "gives both integration_key and routing_key; keep one") }
        let raw = try string(node, path: "\(path).\(name)")
        guard secretReferenceName(raw) != nil else {
            throw error(node, "\(path).\(name)",
                        "must be an environment reference like \"${PD_L2_KEY}\", not the key itself")
        }
        return raw
    }

    /// `P0: {acknowledge: 5m, resolve: 4h}` per priority; what a priority does not set keeps its default.
    private func readSLA(_ node: Node, path: String) throws(ConfigError) -> SLAPolicy {
        var policy = SLAPolicy.defaults
        for (keyNode, body) in try pairs(node, path: path) {
            let raw = try string(keyNode, path: path)
            guard let priority = Priority(name: raw) else {
                throw error(keyNode, "\(path).\(raw)", "priority must be one of P0, P1, P2, P3, P4")
            }
            let targetPath = "\(path).\(priority)"
            let map = try mapping(body, path: targetPath)
            try expectOnly(["acknowledge", "resolve"], in: map, path: targetPath)
            var target = policy.targets[priority.rawValue]!
            if let v = map["acknowledge"] {
                target.acknowledgeWithinSeconds = try duration(v, path: "\(targetPath).acknowledge")
            }
            if let v = map["resolve"] { target.resolveWithinSeconds = try duration(v, path: "\(targetPath).resolve") }
            guard target.acknowledgeWithinSeconds > 0, target.resolveWithinSeconds > 0 else {
                throw error(body, targetPath, "acknowledge and resolve must be longer than 0")
            }
            policy.targets[priority.rawValue] = target
        }
        return policy
    }

    // MARK: typed access with errors that name the key

    func error(_ node: Node, _ path: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, column: node.mark?.column, key: path, problem: problem)
    }

    func pairs(_ node: Node, path: String) throws(ConfigError) -> [(Node, Node)] {
        guard case .mapping(let m) = node else { throw error(node, path, "expected a mapping") }
        return Array(m)
    }

    func mapping(_ node: Node, path: String) throws(ConfigError) -> [String: Node] {
        var result: [String: Node] = [:]
        for (key, value) in try pairs(node, path: path) {
            let name = try string(key, path: path)
            if result[name] != nil { throw error(key, path.isEmpty ? name : "\(path).\(name)", "set twice") }
            result[name] = value
        }
        return result
    }

    func expectOnly(_ known: Set<String>, in map: [String: Node], path: String) throws(ConfigError) {
        for key in map.keys.sorted() where !known.contains(key) {
            let node = map[key]!
            throw error(node, path.isEmpty ? key : "\(path).\(key)",
                        "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return ["null", "~", ""].contains(s.string) }
        return false
    }

    func nodes(_ node: Node, path: String) throws(ConfigError) -> [Node] {
        guard case .sequence(let s) = node else { throw error(node, path, "expected a list") }
        return Array(s)
    }

    func string(_ node: Node, path: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node else { throw error(node, path, "expected a text value") }
        return s.string
    }

    func strings(_ node: Node, path: String) throws(ConfigError) -> [String] {
        var result: [String] = []
        for item in try nodes(node, path: path) { result.append(try string(item, path: path)) }
        return result
    }

    func bool(_ node: Node, path: String) throws(ConfigError) -> Bool {
        switch try string(node, path: path).lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        case let other: throw error(node, path, "expected true or false (got \"\(other)\")")
        }
    }

    func oneOrMany(_ node: Node, path: String) throws(ConfigError) -> [Node] {
        if case .scalar = node { return [node] }
        return try nodes(node, path: path)
    }

    /// Seconds from `90`, `250ms`, `30s`, `5m`, `1h` or `1d`.
    func duration(_ node: Node, path: String) throws(ConfigError) -> Double {
        let raw = try string(node, path: path).trimmingCharacters(in: .whitespaces)
        if raw.hasSuffix("ms"), let value = Double(raw.dropLast(2)), value >= 0 { return value / 1000 }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = raw.last, let unit = units[last], let value = Double(raw.dropLast()), value >= 0 { return value * unit }
        if let value = Double(raw), value >= 0 { return value }
        throw error(node, path, "expected a duration such as 30s, 5m, 1h or 1d (got \"\(raw)\")")
    }

    func number(_ node: Node, path: String) throws(ConfigError) -> Double {
        let raw = try string(node, path: path)
        guard let value = Double(raw), value.isFinite else { throw error(node, path, "expected a number (got \"\(raw)\")") }
        return value
    }
}
