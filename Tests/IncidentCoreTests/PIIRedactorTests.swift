import Testing
@testable import IncidentCore

@Suite struct PIIRedactorTests {
    let redactor = PIIRedactor()

    @Test func masksEmails() {
        let result = redactor.redact("contact alice.smith+x@corp.example.com now")
        #expect(result.text == "contact [REDACTED:email] now")
        #expect(result.found == [.email])
    }

    @Test func masksCardNumbersThatPassLuhnOnly() {
        let result = redactor.redact("card 4111 1111 1111 1111 and order 1234567890123")
        #expect(result.text.contains("[REDACTED:card]"))
        #expect(!result.text.contains("4111"))
        #expect(result.text.contains("order 1234567890123"))
        #expect(result.found == [.cardNumber])
    }

    @Test func masksIPv4AndIPv6() {
        let result = redactor.redact("from 10.1.2.3 and 2001:db8::1, not 999.1.1.1")
        #expect(result.text.contains("from [REDACTED:ip] and [REDACTED:ip]"))
        #expect(result.text.contains("999.1.1.1"))
        #expect(result.found.contains(.ipAddress))
    }

    @Test func masksPhoneNumbers() {
        let result = redactor.redact("call +1 (415) 555-0100 today")
        #expect(result.text == "call [REDACTED:phone] today")
    }

    @Test func masksAPIKeyLikeTokens() {
        let result = redactor.redact("leaked sk-proj-abcdefghijklmnop1234 and Bearer abcdefghijklmnopqrstu.v")
        #expect(!result.text.contains("abcdefghijklmnop1234"))
        #expect(!result.text.contains("abcdefghijklmnopqrstu"))
        #expect(result.found == [.apiKey])
    }

    @Test func leavesOrdinaryTextAlone() {
        let text = "Prompt Injection Detected on model-gpt4-prod (gpt-4-0613), 3 attack vectors, 2025-11-11T10:35:00Z"
        let result = redactor.redact(text)
        #expect(result.text == text)
        #expect(result.found.isEmpty)
    }

    @Test func keepsDatesTimesAndVersions() {
        let text = "at 2025-11-11 10:35:00, version 2.1.0, id 20251111, ratio 0.95"
        #expect(redactor.redact(text).text == text)
    }

    @Test func masksEveryKindInOneText() {
        let result = redactor.redact("eve@x.io from 192.168.0.1 paid with 5500-0000-0000-0004, call 415-555-0100.")
        #expect(result.text == "[REDACTED:email] from [REDACTED:ip] paid with [REDACTED:card], call [REDACTED:phone].")
        #expect(result.found == [.email, .ipAddress, .cardNumber, .phone])
    }

    @Test func keepsNonASCIITextIntact() {
        let result = redactor.redact("Привіт, пишіть на ivan@example.com — дякую")
        #expect(result.text == "Привіт, пишіть на [REDACTED:email] — дякую")
    }

    @Test func masksJWTs() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        #expect(redactor.redact("token: \(jwt)").text == "token: [REDACTED:secret]")
    }

    @Test func redactsMapValuesAndKeepsKeys() {
        let result = redactor.redact(["user_email": "bob@example.org", "environment": "production"])
        #expect(result.map == ["user_email": "[REDACTED:email]", "environment": "production"])
    }

    @Test func luhn() {
        func digits(_ s: String) -> [Int] { s.compactMap(\.wholeNumberValue) }
        #expect(PIIRedactor.passesLuhn(digits("4111111111111111")))
        #expect(!PIIRedactor.passesLuhn(digits("4111111111111112")))
        #expect(!PIIRedactor.passesLuhn(digits("12345")))
    }
}
