// The event `create` sends: read from a proto3 JSON file (or stdin), then completed or overridden by flags.
import Foundation
import IncidentAPI
import ProtoWire

/// Builds a CreateIncidentRequest from `--file` and the event flags.
enum EventInput {
    /// The request in `path` (`-` for stdin) as proto3 JSON.
    static func read(_ path: String) throws(CLIFailure) -> CreateIncidentRequest {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIFailure("cannot read \(path): no such file", exitCode: ExitStatus.noInput)
            }
            guard !isDirectory.boolValue, let contents = FileManager.default.contents(atPath: path) else {
                throw CLIFailure("cannot read \(path): not a readable file", exitCode: ExitStatus.noInput)
            }
            data = contents
        }
        let name = path == "-" ? "stdin" : path
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure("\(name): not UTF-8 text", exitCode: ExitStatus.dataError)
        }
        do {
            return try CreateIncidentRequest(jsonString: text)
        } catch {
            throw CLIFailure("\(name): not a CreateIncidentRequest in proto3 JSON: \(error)",
                             exitCode: ExitStatus.dataError)
        }
    }

    /// `key=value` pairs from repeated flags; `flag` names the flag in the error.
    static func pairs(_ values: [String], flag: String) throws(CLIFailure) -> [String: String] {
        var result: [String: String] = [:]
        for value in values {
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
                throw CLIFailure("\(flag) \(value): expected KEY=VALUE", exitCode: ExitStatus.usage)
            }
            result[String(value[..<equals])] = String(value[value.index(after: equals)...])
        }
        return result
    }

    /// The current time as RFC 3339, for events created by hand.
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
