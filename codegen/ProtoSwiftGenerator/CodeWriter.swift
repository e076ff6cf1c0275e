// Accumulates generated Swift text with indentation.

/// Lines of Swift source, indented by four spaces per level.
struct CodeWriter {
    var text = ""
    private var level = 0

    mutating func line(_ s: String = "") {
        if s.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: "    ", count: level) + s + "\n"
        }
    }

    /// Writes `header {`, the body one level deeper, then `}` (or `footer`).
    mutating func block(_ header: String, footer: String = "}", _ body: (inout CodeWriter) -> Void) {
        line(header + " {")
        level += 1
        body(&self)
        level -= 1
        line(footer)
    }

    /// Writes a proto comment as `///` lines, or `fallback` when there is none.
    mutating func doc(_ comment: String?, fallback: String? = nil) {
        guard let text = comment ?? fallback else { return }
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            line(l.isEmpty ? "///" : "/// " + l)
        }
    }
}
