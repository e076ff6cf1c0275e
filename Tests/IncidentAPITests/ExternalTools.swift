// Runs the reference tools (protoc, protoc-c, cc) the conformance tests compare against.
import Foundation

/// A reference tool run that failed, with what it printed.
struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

enum ExternalTools {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var protosDir: URL { packageRoot.appending(path: "Protos") }

    /// The executable's path on PATH. Missing tools fail the test: `make deps` installs them.
    static func find(_ name: String) throws -> String {
        if name.contains("/") { return name }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw ToolFailure(description: "\(name) is not on PATH; run `make deps` (apt packages in the Makefile)")
    }

    /// Runs a tool with `input` on stdin; returns stdout, throwing when it exits non-zero.
    static func run(_ tool: String, _ arguments: [String], input: [UInt8] = [], in directory: URL? = nil) throws
        -> [UInt8] {
        let scratch = FileManager.default.temporaryDirectory.appending(path: "codec-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inURL = scratch.appending(path: "in")
        let outURL = scratch.appending(path: "out")
        let errURL = scratch.appending(path: "err")
        try Data(input).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try find(tool))
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let out = try [UInt8](Data(contentsOf: outURL))
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw ToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited "
                + "\(process.terminationStatus): \(err)")
        }
        return out
    }

    /// `protoc --decode=<type>` over Protos/.
    static func protocDecode(_ type: String, file: String, _ bytes: [UInt8]) throws -> String {
        let out = try run("protoc", ["-I", protosDir.path, "--decode=\(type)", file], input: bytes)
        return String(decoding: out, as: UTF8.self)
    }

    /// `protoc --encode=<type>` over Protos/.
    static func protocEncode(_ type: String, file: String, _ text: String) throws -> [UInt8] {
        try run("protoc", ["-I", protosDir.path, "--encode=\(type)", file], input: Array(text.utf8))
    }
}
