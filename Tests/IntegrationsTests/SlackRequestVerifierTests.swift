// Slack's v0 request signature: Slack's own documented example verifies, and forged, replayed, stale and
// header-less requests are refused with a reason.
import Testing
@testable import Integrations

@Suite struct SlackRequestVerifierTests {
    /// The example from Slack's "Verifying requests from Slack" page: secret, timestamp, body and signature.
    static let secret = Array("8f742231b10e8888abcd99yyyzzz85a5".utf8)
    static let timestamp = "1531420618"
    static let body = Array(("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        + "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        + "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        + "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").utf8)
    static let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

    let verifier = SlackRequestVerifier(signingSecret: secret)

    @Test("Slack's documented example verifies")
    func documentedExample() throws {
        #expect(verifier.signatureValue(body: Self.body, timestamp: Self.timestamp) == Self.signature)
        try verifier.verify(body: Self.body, timestamp: Self.timestamp, signature: Self.signature,
                            now: 1_531_420_618 + 60)
    }

    @Test("forged, tampered, replayed, stale and incomplete requests are refused")
    func refusals() {
        func refusal(_ body: [UInt8] = Self.body, timestamp: String? = Self.timestamp, signature: String? = Self.signature,
                     now: Int = 1_531_420_618) -> SlackRequestVerifier.Refusal? {
            do { try verifier.verify(body: body, timestamp: timestamp, signature: signature, now: now) } catch {
                return error
            }
            return nil
        }
        // A body changed by one byte, a signature made with another secret, a signature cut short.
        #expect(refusal(Self.body + [0x20]) == .badSignature)
        let forged = SlackRequestVerifier(signingSecret: Array("not-the-secret".utf8))
            .signatureValue(body: Self.body, timestamp: Self.timestamp)
        #expect(refusal(signature: forged) == .badSignature)
        #expect(refusal(signature: String(Self.signature.dropLast())) == .badSignature)
        // The same request replayed ten minutes later, or timestamped in the future past the window.
        #expect(refusal(now: 1_531_420_618 + 600) == .stale(ageSeconds: 600))
        #expect(refusal(now: 1_531_420_618 - 301) == .stale(ageSeconds: -301))
        #expect(refusal(now: 1_531_420_618 + 300) == nil)
        // Moving the timestamp into the window breaks the signature, which covers it.
        #expect(refusal(timestamp: "1531420900", now: 1_531_420_900) == .badSignature)
        #expect(refusal(timestamp: nil) == .missingHeaders)
        #expect(refusal(signature: "") == .missingHeaders)
        #expect(refusal(timestamp: "-5") == .badTimestamp)
        #expect(refusal(timestamp: "12e3") == .badTimestamp)
    }
}
