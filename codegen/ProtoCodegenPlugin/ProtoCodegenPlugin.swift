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
        // Every proto is an input of every command: a file's generated code depends on what it imports.
        let inputs = protos.map { protosDir.appending(path: $0) }
        var commands: [Command] = protos.map { name in
            let output = outDir.appending(path: Self.outputName(for: name))
            return .buildCommand(
                displayName: "proto-codegen \(name)",
                executable: tool.url,
                arguments: ["--proto-path", protosDir.path(), "--output", output.path(), name] + protos,
                inputFiles: inputs,
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

    /// `grpc/health/v1/health.proto` → `grpc_health_v1_health.pb.swift`.
    static func outputName(for proto: String) -> String {
        String(proto.dropLast(".proto".count)).replacingOccurrences(of: "/", with: "_") + ".pb.swift"
    }
}
