// Slack's request signing (v0) for the interactive-button callback the HTTP door will serve: `X-Slack-Signature:
// v0=<hex HMAC-SHA256(signing secret, "v0:<X-Slack-Request-Timestamp>:<raw body>")>`, the timestamp within five
// minutes of ours (Slack's advice against replays), compared in constant time. Pure, so every door checks alike.
import IncidentCore

/// Verifies that a request came from Slack and is fresh.
public struct SlackRequestVerifier: Sendable {
    /// Why a request was refused; the text is safe to log and to answer (it names no secret or signature).
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case missingHeaders
        case badTimestamp
        case stale(ageSeconds: Int)
        case badSignature

        public var description: String {
            switch self {
            case .missingHeaders: "missing X-Slack-Signature or X-Slack-Request-Timestamp"
            case .badTimestamp: "X-Slack-Request-Timestamp is not a Unix time"
            case .stale(let age): "request timestamp is \(age) s away from now (at most 300 s): replayed or clock skew"
            case .badSignature: "X-Slack-Signature does not match the body"
            }
        }
    }

    private let secret: [UInt8]
    /// Largest distance between Slack's timestamp and ours.
    public let maxSkewSeconds: Int

    /// `secret` is the Slack app's signing secret (from the environment, never the committed config).
    public init(signingSecret: [UInt8], maxSkewSeconds: Int = 300) {
        self.secret = signingSecret
        self.maxSkewSeconds = maxSkewSeconds
    }

    /// Checks one request: `timestamp` and `signature` are the headers as received, `body` the raw bytes (before
    /// any form decoding: the signature covers them exactly), `now` our Unix time.
    public func verify(body: [UInt8], timestamp: String?, signature: String?, now: Int) throws(Refusal) {
        guard let timestamp, let signature, !timestamp.isEmpty, !signature.isEmpty else { throw .missingHeaders }
        guard timestamp.allSatisfy(\.isNumber), let sent = Int(timestamp) else { throw .badTimestamp }
        let age = now - sent
        guard abs(age) <= maxSkewSeconds else { throw .stale(ageSeconds: age) }
        let expected = Array(signatureValue(body: body, timestamp: timestamp).utf8)
        guard Digest.constantTimeEqual(expected, Array(signature.utf8)) else { throw .badSignature }
    }

    /// `v0=<hex>` for a body and timestamp: what Slack sends (tests and stand-ins sign with it).
    public func signatureValue(body: [UInt8], timestamp: String) -> String {
        "v0=" + Digest.hex(Digest.hmacSHA256(key: secret, message: Array("v0:\(timestamp):".utf8) + body))
    }
}
