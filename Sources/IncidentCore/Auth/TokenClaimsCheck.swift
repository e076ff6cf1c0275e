// The claim checks of a JWT whose signature verified: lifetime (exp required, nbf when present, both with
// leeway; exp - iat at most max_lifetime when configured), issuer and audience when configured, and the claim
// that names the identity.
import Foundation

/// Checks a verified token's claims against the JWT settings.
public struct TokenClaimsCheck: Sendable {
    public let settings: JWTSettings

    public init(settings: JWTSettings) {
        self.settings = settings
    }

    /// The identity name the claims stand for, or why they are not accepted at `now`.
    public func identity(from claims: [String: ClaimValue], now: Date) throws(TokenRejection) -> String {
        let seconds = now.timeIntervalSince1970
        // A token that never expires is a key that can never be revoked: exp is required.
        guard case .number(let expires)? = claims["exp"] else {
            throw TokenRejection(.expired, "has no numeric exp claim; tokens must expire")
        }
        guard seconds < expires + settings.leewaySeconds else {
            throw TokenRejection(.expired, "expired at \(Self.format(expires))")
        }
        if let maxLifetime = settings.maxLifetimeSeconds {
            // A long-lived token is a standing credential; without iat its lifetime cannot be known.
            guard case .number(let issuedAt)? = claims["iat"] else {
                throw TokenRejection(.lifetime, "has no numeric iat claim; tokens.jwt.max_lifetime requires it")
            }
            guard expires - issuedAt <= maxLifetime else {
                throw TokenRejection(.lifetime, "lives \(Self.seconds(expires - issuedAt)) (exp - iat), longer than "
                                     + "tokens.jwt.max_lifetime \(Self.seconds(maxLifetime)); issue shorter tokens")
            }
        }
        if let notBefore = claims["nbf"] {
            guard case .number(let start) = notBefore else { throw TokenRejection(.notYetValid, "nbf is not a number") }
            guard seconds + settings.leewaySeconds >= start else {
                throw TokenRejection(.notYetValid, "is not valid before \(Self.format(start))")
            }
        }
        if let issuer = settings.issuer {
            guard case .string(let claimed)? = claims["iss"], claimed == issuer else {
                throw TokenRejection(.issuer, "was not issued by the accepted issuer")
            }
        }
        if let audience = settings.audience {
            let accepted: Bool
            switch claims["aud"] {
            case .string(let value)?: accepted = value == audience
            case .array(let values)?: accepted = values.contains(.string(audience))
            default: accepted = false
            }
            guard accepted else { throw TokenRejection(.audience, "is not meant for audience \"\(audience)\"") }
        }
        guard case .string(let name)? = claims[settings.identityClaim], !name.isEmpty else {
            throw TokenRejection(.identityClaim, "has no text \(settings.identityClaim) claim naming an identity")
        }
        return name
    }

    static func seconds(_ value: Double) -> String {
        value.isFinite && abs(value) < 1e15 ? "\(Int64(value))s" : String(value)
    }

    static func format(_ epochSeconds: Double) -> String {
        guard epochSeconds.isFinite, abs(epochSeconds) < 1e11 else { return String(epochSeconds) }
        return Date(timeIntervalSince1970: epochSeconds).formatted(.iso8601)
    }
}
