// Bounds on what one GraphQL document may ask for, checked on the validated document before anything executes:
// its depth (fragments expanded) and an estimated cost. Without them a caller could nest introspection lists or
// alias the 1,000-row page many times over and make one small request cost the server and database a lot.
import GraphQL
import IncidentStore

/// The depth and cost ceilings, and the cost estimate.
struct GraphQLLimits: Sendable {
    /// Deepest field nesting. The guide's report query needs 5; the standard introspection query of current
    /// clients (graphql-core 3.3, whose TypeRef fragment nests `ofType` nine times) 15, so 20 leaves clients room.
    var maxDepth = 20
    /// Largest estimated cost: roughly the number of values the answer would hold (see `cost`).
    var maxCost = 60_000

    /// Why a document is refused, or nil when it is within both bounds.
    func refusal(of document: Document, variables: [String: Map]) -> GraphQLError? {
        var fragments: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { fragments[fragment.name.value] = fragment }
        for case let operation as OperationDefinition in document.definitions {
            let depth = Self.depth(operation.selectionSet, fragments: fragments, level: 0)
            if depth > maxDepth {
                return GraphQLError(message: "query depth \(depth) exceeds the limit of \(maxDepth)",
                                    extensions: ["code": "QUERY_TOO_DEEP"])
            }
            let cost = Self.cost(operation.selectionSet, fragments: fragments, variables: variables, multiplier: 1,
                                 ceiling: maxCost)
            if cost > maxCost {
                return GraphQLError(message: "query cost \(cost >= maxCost * 2 ? "over \(maxCost * 2)" : String(cost)) "
                                        + "exceeds the limit of \(maxCost); ask for fewer fields or smaller pages",
                                    extensions: ["code": "QUERY_TOO_COSTLY"])
            }
        }
        return nil
    }

    /// The deepest field below `selectionSet`; fragments count as the fields they hold (validation has refused
    /// fragment cycles, so this ends).
    static func depth(_ selectionSet: SelectionSet, fragments: [String: FragmentDefinition], level: Int) -> Int {
        var deepest = level
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                let below = field.selectionSet.map { depth($0, fragments: fragments, level: level + 1) } ?? level + 1
                deepest = max(deepest, below)
            case let inline as InlineFragment:
                deepest = max(deepest, depth(inline.selectionSet, fragments: fragments, level: level))
            case let spread as FragmentSpread:
                if let fragment = fragments[spread.name.value] {
                    deepest = max(deepest, depth(fragment.selectionSet, fragments: fragments, level: level))
                }
            default:
                continue
            }
        }
        return deepest
    }

    /// Each field costs the number of times it would be resolved: 1 times the sizes of the lists above it. A page
    /// of `incidents` is as long as its pageSize; introspection lists count as their typical lengths. Stops adding
    /// once past twice `ceiling`, so an absurd document is not walked to the end.
    static func cost(_ selectionSet: SelectionSet, fragments: [String: FragmentDefinition], variables: [String: Map],
                     multiplier: Int, ceiling: Int) -> Int {
        var total = 0
        for selection in selectionSet.selections {
            if total > ceiling * 2 { return total }
            switch selection {
            case let field as Field:
                total += multiplier
                if let below = field.selectionSet {
                    let size = listSize(field, variables: variables)
                    let (inner, overflow) = multiplier.multipliedReportingOverflow(by: size)
                    if overflow { return Int.max / 4 }
                    total += cost(below, fragments: fragments, variables: variables, multiplier: inner,
                                  ceiling: ceiling)
                }
            case let inline as InlineFragment:
                total += cost(inline.selectionSet, fragments: fragments, variables: variables, multiplier: multiplier,
                              ceiling: ceiling)
            case let spread as FragmentSpread:
                if let fragment = fragments[spread.name.value] {
                    total += cost(fragment.selectionSet, fragments: fragments, variables: variables,
                                  multiplier: multiplier, ceiling: ceiling)
                }
            default:
                continue
            }
        }
        return min(total, Int.max / 4)
    }

    /// How many objects a field with sub-selections yields.
    private static func listSize(_ field: Field, variables: [String: Map]) -> Int {
        switch field.name.value {
        case "incidents":
            // pageSize as written (literal or variable); the schema's default otherwise.
            guard let pagination = field.arguments.first(where: { $0.name.value == "pagination" })?.value else {
                return IncidentGraphQLSchema.defaultPageSize
            }
            var sizeValue: Map?
            if let object = pagination as? ObjectValue {
                if let value = object.fields.first(where: { $0.name.value == "pageSize" })?.value {
                    sizeValue = literal(value, variables: variables)
                }
            } else if let variable = pagination as? Variable {
                sizeValue = variables[variable.name.value]?["pageSize"]
            }
            // An unusable size is refused by the resolver; for the estimate it counts as the largest allowed.
            guard let sizeValue, !sizeValue.isUndefined, !sizeValue.isNull else {
                return IncidentGraphQLSchema.defaultPageSize
            }
            let largest = IncidentStore.maxReportPageSize
            return min(max(sizeValue.int ?? largest, 1), largest)
        // About this schema's own sizes (some 30 types of up to 9 fields): graphql-core's full introspection
        // query then costs some 33,000, under the limit, while nesting those lists deeper is soon refused.
        case "types": return 30
        case "fields", "directives": return 8
        case "enumValues": return 5
        case "inputFields": return 4
        case "args", "possibleTypes", "interfaces": return 2
        case "bySeverity", "byCategory": return 10
        default: return 1
        }
    }

    private static func literal(_ value: Value, variables: [String: Map]) -> Map? {
        if let int = value as? IntValue { return Int(int.value).map(Map.int) }
        if let variable = value as? Variable { return variables[variable.name.value] }
        return nil
    }
}
