// Certificates for the tests, made once per test process by Fixtures/make-test-pki.sh (openssl CLI).
import Foundation

/// A throw-away PKI: two CAs, server and client certificates, an expired client certificate.
struct TestPKI: Sendable {
    let directory: String

    func path(_ name: String) -> String { directory + "/" + name }

    /// The PKI shared by tests that do not modify files.
    static let shared: TestPKI = {
        do { return try make() } catch { fatalError("cannot make the test PKI: \(error)") }
    }()

    /// A fresh PKI in its own directory (for tests that replace files, such as rotation).
    static func make() throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rpc-tests-pki-\(UUID().uuidString)").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/make-test-pki.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestPKIError(message: "make-test-pki.sh exited with \(process.terminationStatus)")
        }
        return TestPKI(directory: directory)
    }

    /// The lower-case hex SHA-256 fingerprint openssl computes for a certificate file.
    func opensslFingerprint(_ name: String) throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-in", path(name), "-noout", "-fingerprint", "-sha256"]
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "sha256 Fingerprint=AB:CD:..."
        guard let value = output.split(separator: "=").last else { throw TestPKIError(message: output) }
        return value.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased()
    }

    /// Replaces `target` with a copy of `source` the way a deployment would: write aside, then rename.
    func replace(_ target: String, with source: String) throws {
        let temporary = path(target + ".new")
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: path(source), toPath: temporary)
        _ = rename(temporary, path(target))
    }
}

struct TestPKIError: Error {
    var message: String
}
