// A JSON Web Token in JWS compact form taken apart: header, claims, the signed bytes and the signature.
// Parsing only; whether the signature and the claims hold is decided by BearerTokenVerifier.
import Foundation

/// A parsed (not yet verified) JWT.
public struct JSONWebToken: Sendable, Hashable {
    /// The header's `alg`.
    public var algorithm: String
    /// The header's `kid`, when present.
    public var keyID: String?
    /// The payload's claims.
    public var claims: [String: ClaimValue]
    /// `base64url(header) + "." + base64url(payload)`: the bytes the signature covers.
    public var signingInput: [UInt8]
    public var signature: [UInt8]

    /// Longest token accepted, so a hostile header cannot make the server decode megabytes.
    public static let maxLength = 8192

    /// Parses `header.payload.signature`. Refuses headers with `crit` (extensions this server does not know).
    public init(compact token: String) throws(TokenRejection) {
        guard token.utf8.count <= Self.maxLength else {
            throw TokenRejection(.malformed, "is longer than \(Self.maxLength) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw TokenRejection(.malformed, "is not three base64url parts joined by dots") }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else {
            throw TokenRejection(.malformed, "has a part that is not base64url")
        }
        let header = try Self.object(headerBytes, part: "header")
        guard case .string(let algorithm)? = header["alg"] else {
            throw TokenRejection(.malformed, "header has no alg")
        }
        if header["crit"] != nil {
            throw TokenRejection(.malformed, "header has crit extensions this server does not know")
        }
        var keyID: String?
        if let kid = header["kid"] {
            guard case .string(let text) = kid else { throw TokenRejection(.malformed, "header kid is not text") }
            keyID = text
        }
        self.algorithm = algorithm
        self.keyID = keyID
        self.claims = try Self.object(payloadBytes, part: "payload")
        self.signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        self.signature = signature
    }

    private static func object(_ bytes: [UInt8], part: String) throws(TokenRejection) -> [String: ClaimValue] {
        do {
            return try JSONDecoder().decode([String: ClaimValue].self, from: Data(bytes))
        } catch {
            throw TokenRejection(.malformed, "\(part) is not a JSON object")
        }
    }
}

/// One JSON value of a JWT header or payload.
public enum ClaimValue: Sendable, Hashable, Decodable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ClaimValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ClaimValue].self))
        }
    }
}

/// Base64url without padding (RFC 7515 §2); padding is tolerated.
public enum Base64URL {
    /// The bytes, or nil when the text holds anything but the base64url alphabet.
    public static func decode(_ text: Substring) -> [UInt8]? {
        // '+' and '/' belong to plain base64, not to base64url.
        if text.contains("+") || text.contains("/") { return nil }
        var base64 = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return Array(data)
    }

    /// Base64url text of `bytes`, unpadded.
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
