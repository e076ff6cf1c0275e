// redact-bench: CPU µs to redact 16 KiB of text with `PIIRedactor`, for the inputs that used to cost quadratic
// time (long runs of short dot-, dash-, colon- or bracket-separated words) and for an ordinary description.
// `make bench-redact` runs it; figures only, no pass/fail: the tests prove the output, this shows the cost.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import IncidentCore

/// Process CPU time in seconds, so other load on the shared machine skews the figures less.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let size = 16 * 1024

/// `unit` repeated up to `size` bytes.
func repeated(_ unit: String) -> String {
    String(String(repeating: unit, count: size / unit.utf8.count + 1).utf8.prefix(size))!
}

let ordinary = repeated(
    "Prompt Injection Detected on model-gpt4-prod (gpt-4-0613): 3 attack vectors blocked at 2025-11-11T10:35:00Z, "
        + "user alice@example.com from 10.1.2.3, ticket 20251111, ratio 0.95, version 2.1.0. ")

let inputs: [(String, String)] = [
    ("ordinary description", ordinary),
    ("1.1.1.1...", repeated("1.")),
    ("a.a.a.a...", repeated("a.")),
    ("1-1-1-1...", repeated("1-")),
    ("1 1 1 1...", repeated("1 ")),
    ("a:a:a:a...", repeated("a:")),
    ("((((...", repeated("(")),
    ("sk-sk-sk...", repeated("sk-")),
    ("eyJ.eyJ...", repeated("eyJ.")),
    ("a@a@a@...", repeated("a@")),
    ("x@a.a.a...", "x@" + repeated("a.")),
]

let redactor = PIIRedactor()
let minimumSeconds = Double(CommandLine.arguments.dropFirst().first ?? "") ?? 0.5
print("input                    µs per 16 KiB   (best of runs over \(minimumSeconds) s of CPU each)")
for (name, text) in inputs {
    var best = Double.infinity
    var spent = 0.0
    var sink = 0
    repeat {
        let start = cpuSeconds()
        sink &+= redactor.redact(text).text.utf8.count
        let elapsed = cpuSeconds() - start
        best = min(best, elapsed)
        spent += elapsed
    } while spent < minimumSeconds
    let padded = name.padding(toLength: 24, withPad: " ", startingAt: 0)
    print("\(padded) \(String(format: "%12.1f", best * 1e6))")
    // Keeps the optimizer from dropping the calls whose output nobody reads.
    if sink == 0 { print("(no output)") }
}
