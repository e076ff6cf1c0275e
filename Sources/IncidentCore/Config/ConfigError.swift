// A config problem, told the way an operator fixes it: the file, the place, the key, what is wrong.

/// Why a config file was refused at start-up.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file that was read.
    public var file: String
    /// 1-based line and column in the file, when known.
    public var line: Int?
    public var column: Int?
    /// The dotted path of the key (`integrations.llm-shield.routing.auto_page`).
    public var key: String
    /// What is wrong and what is accepted.
    public var problem: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.problem = problem
    }

    public var description: String {
        let place = line.map { ":\($0):\(column ?? 1)" } ?? ""
        return key.isEmpty ? "\(file)\(place): \(problem)" : "\(file)\(place): \(key): \(problem)"
    }
}
