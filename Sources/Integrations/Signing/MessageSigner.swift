// Signs outbound requests so receivers can tell they came from us and were not replayed:
// HMAC-SHA256 over "<timestamp>.<body>", the scheme Slack and Stripe use.
import IncidentCore

/// Computes request signatures with a shared secret.
public struct MessageSigner: Sendable {
    private let secret: [UInt8]

    /// A signer for a secret taken from the environment or a file, never from the committed config.
    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The headers a signed request carries: `X-Incident-Timestamp` and
    /// `X-Incident-Signature: v1=<hex HMAC-SHA256 of "timestamp.body">`.
    public func signatureHeaders(body: [UInt8], timestamp: Int) -> [String: String] {
        [
            "X-Incident-Timestamp": String(timestamp),
            "X-Incident-Signature": "v1=" + Digest.hex(mac(body: body, timestamp: String(timestamp))),
        ]
    }

    /// Checks a signature in constant time (receivers in tests and the mock integrations use it).
    public func verify(body: [UInt8], timestamp: String, signature: String) -> Bool {
        guard signature.hasPrefix("v1=") else { return false }
        let expected = Array(Digest.hex(mac(body: body, timestamp: timestamp)).utf8)
        return Digest.constantTimeEqual(expected, Array(signature.dropFirst(3).utf8))
    }

    private func mac(body: [UInt8], timestamp: String) -> [UInt8] {
        Digest.hmacSHA256(key: secret, message: Array("\(timestamp).".utf8) + body)
    }
}
