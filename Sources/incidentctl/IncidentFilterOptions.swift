// The filters `list` and `watch` share: severities, statuses and categories, each repeatable.
import ArgumentParser

/// Which incidents a listing or a watch shows; empty lists match everything.
struct IncidentFilterOptions: ParsableArguments {
    @Option(name: .long, help: "Only this severity: a level P0 … P4 or an event word critical … info (repeatable).")
    var severity: [String] = []
    @Option(name: .long, help: "Only this status (repeatable).")
    var status: [String] = []
    @Option(name: .long, help: "Only this category (repeatable).")
    var category: [String] = []
}
