// TLS options reach libpq, and an unreachable or unverifiable database is a retryable, secret-free error.
import Foundation
import Testing
@testable import IncidentStore

@Suite("Connection settings", .enabled(if: TestDatabase.shouldRun))
struct ConnectionSettingsTests {
    @Test("requiring a verified TLS server against a server without TLS fails to connect, retryably")
    func tlsIsEnforced() async throws {
        let url = try #require(TestDatabase.url)
        // The development server has no TLS: libpq must refuse rather than fall back to plain text.
        let settings = ConnectionSettings(url: url, tls: .verifyFull(rootCertificatePath: "/nonexistent/ca.pem"))
        do {
            try await IncidentStore.migrate(settings)
            Issue.record("connected without the required TLS")
        } catch let error as StoreError {
            #expect(error.isRetryable)
            #expect(error.description.contains("TLS"))
        }
    }

    @Test("a database that does not answer yields a retryable error, not a hang")
    func unreachable() async throws {
        // Port 1 on loopback refuses at once.
        let settings = ConnectionSettings(url: "postgresql://incident@127.0.0.1:1/incidents", connectTimeoutSeconds: 2)
        do {
            _ = try await IncidentStore.open(StoreConfiguration(connection: settings))
            Issue.record("opened a store on a closed port")
        } catch let error as StoreError {
            #expect(error.isRetryable)
            #expect(!error.description.contains("127.0.0.1"))
        }
    }

    @Test("text arrays survive quotes, backslashes, commas, braces and NULLs")
    func textArrayRoundTrip() async throws {
        let sql = SQLClient(ConnectionSettings(url: try #require(TestDatabase.url)))
        defer { sql.close() }
        let elements: [String?] = ["plain", "a \"quoted\" word", "back\\slash", "{brace}", "a,b", "", nil, "NULL",
                                   "\\x00ff", "é✓", " spaced "]
        let result = try await sql.execute(
            "SELECT u AS v FROM unnest($1::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n",
                                           [TextArray(elements: elements)])
        #expect(result.rows.map { $0[0] } == elements)
    }
}
