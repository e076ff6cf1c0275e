// Runs proto-codegen over the package's top-level Protos/ folder (and its subfolders), or the target's own Protos/, on every build of the target
// it is applied to: one command per .proto file, plus one for the module's index of file descriptors.
import Foundation
import PackagePlugin

@main
struct ProtoCodegenPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // A test target with its own Protos/ folder (fixtures) compiles that; others compile the package's.
        let ownProtos = context.package.directoryURL.appending(path: "Tests/\(target.name)/Protos")
        let protosDir = FileManager.default.fileExists(atPath: ownProtos.path())
            ? ownProtos : context.package.directoryURL.appending(path: "Protos")
        let protos = Self.protoFiles(under: protosDir)
        guard !protos.isEmpty else { return [] }
        let tool = try context.tool(named: "proto-codegen")
        let outDir = context.pluginWorkDirectoryURL.appending(path: "generated")
        // A file's generated code depends on the file and what it imports (transitively), nothing else:
        // touching one .proto re-runs only the commands of the files that see it.
        let inputs = protos.map { protosDir.appending(path: $0) }
        let imports = Dictionary(uniqueKeysWithValues: protos.map { ($0, Self.imports(of: protosDir.appending(path: $0))) })
        var commands: [Command] = protos.map { name in
            let output = outDir.appending(path: Self.outputName(for: name))
            let seen = Self.closure(of: name, imports: imports).filter { protos.contains($0) }
            return .buildCommand(
                displayName: "proto-codegen \(name)",
                executable: tool.url,
                arguments: ["--proto-path", protosDir.path(), "--output", output.path(), name],
                inputFiles: seen.map { protosDir.appending(path: $0) },
                outputFiles: [output]
            )
        }
        let index = outDir.appending(path: "ProtoFileIndex.pb.swift")
        commands.append(.buildCommand(
            displayName: "proto-codegen file index",
            executable: tool.url,
            arguments: ["--proto-path", protosDir.path(), "--output", index.path(), "--index"] + protos,
            inputFiles: inputs,
            outputFiles: [index]
        ))
        return commands
    }

    /// Paths of every .proto below `dir`, relative to it, sorted.
    static func protoFiles(under dir: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: dir.path()) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasSuffix(".proto") { found.append(path) }
        }
        return found.sorted()
    }

    /// The files an `import "...";` line of `file` names; the generator itself reports malformed imports.
    static func imports(of file: URL) -> [String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            guard trimmed.hasPrefix("import ") else { return nil }
            let parts = trimmed.split(separator: "\"")
            return parts.count >= 2 ? String(parts[1]) : nil
        }
    }

    /// `name` and every file it imports, directly or not.
    static func closure(of name: String, imports: [String: [String]]) -> [String] {
        var seen: [String] = []
        var queue = [name]
        while let next = queue.popLast() {
            guard !seen.contains(next) else { continue }
            seen.append(next)
            queue += imports[next] ?? []
        }
        return seen.sorted()
    }

    /// `grpc/health/v1/health.proto` → `grpc_health_v1_health.pb.swift`.
    static func outputName(for proto: String) -> String {
        String(proto.dropLast(".proto".count)).replacingOccurrences(of: "/", with: "_") + ".pb.swift"
    }
}
