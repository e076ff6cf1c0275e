// The API keys of event sources (`integrations.<source>.authentication.api_keys`): what a source's HTTP request
// presents (`X-API-Key`, `Authorization: Bearer`, or basic auth as Alertmanager's http_config sends it) checked
// against the configured SHA-256 hashes in constant time, and the identity the matching key stands for.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer

/// Finds the source identity behind a request's API key.
struct SourceKeys: Sendable {
    let config: ServiceConfig

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// The identity a key of `source` stands for: named after the source and key id (the audit trail's actor),
    /// with the key's permissions, the source's rate limit, and only that source to report. 401 without a key or
    /// with one that is not the source's; 404 when the source takes no keys.
    func identity(for request: Request, source name: String) throws -> IdentityPolicy {
        guard let source = config.sources[name], source.enabled, !source.apiKeys.isEmpty else {
            throw DoorError(.notFound, "not_found", "no source \"\(name.prefix(64))\" takes API keys on this server")
        }
        let (presented, user) = try Self.presentedKey(request)
        guard let key = source.key(matchingDigest: Digest.sha256(Array(presented.utf8))),
              user == nil || user == key.keyID else {
            throw DoorError(.unauthorized, "unauthenticated", "the API key is not one of \(name)'s keys")
        }
        return IdentityPolicy(name: "\(name)/\(key.keyID)", permissions: key.permissions, rateLimit: source.rateLimit,
                              sources: [name])
    }

    /// The one key the request presents, and the basic-auth user name when it came that way.
    static func presentedKey(_ request: Request) throws -> (key: String, user: String?) {
        let apiKeys = request.headers[values: apiKeyHeader]
        let authorization = request.headers[values: .authorization]
        guard apiKeys.count + authorization.count == 1 else {
            throw DoorError(.unauthorized, "unauthenticated",
                            "send the source's API key once: X-API-Key, Authorization: Bearer or basic auth")
        }
        if let key = apiKeys.first, !key.isEmpty { return (key, nil) }
        let value = authorization.first ?? ""
        if value.lowercased().hasPrefix("bearer "), case let token = value.dropFirst(7), !token.isEmpty {
            return (String(token), nil)
        }
        if value.lowercased().hasPrefix("basic "),
           let decoded = Data(base64Encoded: String(value.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            return (String(decoded[decoded.index(after: colon)...]), String(decoded[..<colon]))
        }
        throw DoorError(.unauthorized, "unauthenticated", "the Authorization header is neither Bearer nor Basic")
    }
}
