// Signs outbound requests so receivers can tell they came from us and were not replayed:
// HMAC-SHA256 over "<timestamp>.<body>", the scheme Slack and Stripe use, through OpenSSL.
internal import COpenSSL
import Foundation

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
        let signed = Array("\(timestamp).".utf8) + body
        return [
            "X-Incident-Timestamp": String(timestamp),
            "X-Incident-Signature": "v1=" + Self.hex(Self.hmacSHA256(key: secret, message: signed)),
        ]
    }

    /// Checks a signature in constant time (receivers in tests and the mock integrations use it).
    public func verify(body: [UInt8], timestamp: String, signature: String) -> Bool {
        guard signature.hasPrefix("v1=") else { return false }
        let expected = Array(Self.hex(Self.hmacSHA256(key: secret, message: Array("\(timestamp).".utf8) + body)).utf8)
        let given = Array(signature.dropFirst(3).utf8)
        guard expected.count == given.count else { return false }
        return expected.withUnsafeBytes { e in given.withUnsafeBytes { g in CRYPTO_memcmp(e.baseAddress, g.baseAddress, e.count) == 0 } }
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.bindMemory(to: UInt8.self).baseAddress, m.count,
                     &digest, &length)
            }
        }
        // HMAC fails only on allocation failure inside OpenSSL.
        precondition(ok != nil, "HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }

    /// SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { d in
            _ = SHA256(d.bindMemory(to: UInt8.self).baseAddress, d.count, &digest)
        }
        return digest
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
