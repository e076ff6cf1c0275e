// proto-codegen: reads Protos/*.proto and writes the Swift for one file (or the module's file index).
// Usage: proto-codegen --proto-path DIR --output FILE [--no-services] (--index | FILE.proto) [ALL.proto...]
import Foundation
import ProtoSwiftGenerator
import ProtoSyntax

@main
struct ProtoCodegen {
    static func main() {
        do {
            try run(Array(CommandLine.arguments.dropFirst()))
        } catch let error as ProtoSyntaxError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("proto-codegen: error: \(error)\n".utf8))
            exit(1)
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ arguments: [String]) throws {
        var protoPath: String?
        var output: String?
        var index = false
        var includeServices = true
        var names: [String] = []
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--proto-path": i += 1; protoPath = i < arguments.count ? arguments[i] : nil
            case "--output": i += 1; output = i < arguments.count ? arguments[i] : nil
            case "--index": index = true
            case "--no-services": includeServices = false
            default: names.append(arguments[i])
            }
            i += 1
        }
        guard let root = protoPath, let out = output, !names.isEmpty else {
            throw UsageError(description: "usage: proto-codegen --proto-path DIR --output FILE [--index] FILE.proto...")
        }
        let schema: ProtoSchema
        do {
            schema = try ProtoLoader.load(names, root: root)
        } catch var error as ProtoSyntaxError {
            // Full paths let editors and the build log jump to the line.
            error.location.file = (root as NSString).appendingPathComponent(error.location.file)
            throw error
        }
        let generator = SwiftGenerator(schema: schema, options: .init(includeServices: includeServices))
        let text = index ? generator.generateIndex(names) : try generator.generate(names[0])
        // Rewrite only on change so dependents are not rebuilt needlessly.
        if (try? String(contentsOfFile: out, encoding: .utf8)) != text {
            try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: out, atomically: true, encoding: .utf8)
        }
    }
}

/// Reads files and everything they import from the proto root.
enum ProtoLoader {
    static func load(_ names: [String], root: String) throws -> ProtoSchema {
        var parsed: [String: ProtoFile] = [:]
        var queue = names
        var importedAt: [String: SourceLocation] = [:]
        while let name = queue.popLast() {
            guard parsed[name] == nil else { continue }
            let path = (root as NSString).appendingPathComponent(name)
            guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
                let at = importedAt[name] ?? SourceLocation(file: name, line: 1, column: 1)
                throw ProtoSyntaxError("cannot read \"\(name)\" under \(root)", at: at)
            }
            let file = try Parser.parse(source, name: name)
            parsed[name] = file
            for imp in file.imports where parsed[imp.path] == nil {
                importedAt[imp.path] = imp.location
                queue.append(imp.path)
            }
        }
        return try ProtoSchema(files: Array(parsed.values).sorted { $0.name < $1.name })
    }
}
