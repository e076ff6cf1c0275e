// Certificates for the IncidentServer tests, made once per test process by Fixtures/make-service-pki.sh.
import Foundation

/// A throw-away CA with a server certificate and one client certificate per test identity.
struct ServicePKI: Sendable {
    let directory: String

    func path(_ name: String) -> String { directory + "/" + name }

    static let shared: ServicePKI = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("incident-server-tests-pki-\(UUID().uuidString)").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/make-service-pki.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        do { try process.run() } catch { fatalError("cannot run make-service-pki.sh: \(error)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            fatalError("make-service-pki.sh exited with \(process.terminationStatus)")
        }
        return ServicePKI(directory: directory)
    }()
}
