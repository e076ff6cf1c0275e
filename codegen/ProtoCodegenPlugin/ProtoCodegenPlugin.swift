// Runs proto-codegen over the package's top-level Protos/ folder on every build of the target it is applied to.
import Foundation
import PackagePlugin

@main
struct ProtoCodegenPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let protosDir = context.package.directoryURL.appending(path: "Protos")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: protosDir.path())) ?? []
        let protos = names.filter { $0.hasSuffix(".proto") }.sorted()
        guard !protos.isEmpty else { return [] }
        let tool = try context.tool(named: "proto-codegen")
        let outDir = context.pluginWorkDirectoryURL.appending(path: "generated")
        return protos.map { name in
            let output = outDir.appending(path: String(name.dropLast(".proto".count)) + ".pb.swift")
            // Every proto is an input of every command: a file's generated code depends on what it imports.
            return .buildCommand(
                displayName: "proto-codegen \(name)",
                executable: tool.url,
                arguments: ["--proto-path", protosDir.path(), "--output", output.path(), name],
                inputFiles: protos.map { protosDir.appending(path: $0) },
                outputFiles: [output]
            )
        }
    }
}
