// Bearer tokens for the tests, signed by the openssl CLI (a signer we did not write) with the keys
// make-service-pki.sh made: RS256 and ES256 JWTs, and API keys with their SHA-256.
import Foundation
import IncidentCore

enum TokenMaker {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func base64URL(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }

    static func json(_ object: [String: Any]) -> String {
        base64URL(Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    /// A JWT over `claims` signed by `openssl dgst -sha256 -sign keyFile`; ES256 signatures are turned from
    /// DER into JWS's r||s.
    static func jwt(_ algorithm: String, keyFile: String, claims: [String: Any], keyID: String? = nil)
        throws -> String {
        var header: [String: Any] = ["alg": algorithm, "typ": "JWT"]
        if let keyID { header["kid"] = keyID }
        let input = json(header) + "." + json(claims)
        var signature = try openssl(["dgst", "-sha256", "-sign", keyFile], input: Array(input.utf8))
        if algorithm == "ES256" { signature = try rawECDSA(der: signature) }
        return input + "." + base64URL(signature)
    }

    /// Claims valid for the next ten minutes.
    static func claims(subject: String, issuer: String = "https://issuer.test", audience: String = "incident-manager",
                       expiresIn: TimeInterval = 600) -> [String: Any] {
        let now = Date().timeIntervalSince1970
        return ["sub": subject, "iss": issuer, "aud": audience, "iat": Int(now), "exp": Int(now + expiresIn)]
    }

    static func openssl(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "openssl \(arguments) failed") }
        return Array(output)
    }

    /// SEQUENCE { INTEGER r, INTEGER s } → r||s, each left-padded to 32 bytes.
    static func rawECDSA(der: [UInt8]) throws -> [UInt8] {
        var index = 2
        if der.count > 1, der[1] & 0x80 != 0 { index += Int(der[1] & 0x7f) }
        var out: [UInt8] = []
        for _ in 0..<2 {
            guard index + 2 <= der.count, der[index] == 0x02 else { throw Failure(description: "not a DER signature") }
            let length = Int(der[index + 1])
            var integer = Array(der[(index + 2)..<(index + 2 + length)])
            while integer.count > 32, integer.first == 0 { integer.removeFirst() }
            out += Array(repeating: 0, count: 32 - integer.count) + integer
            index += 2 + length
        }
        return out
    }
}
