// Name conversions shared by the descriptor writer and the Swift generator.

/// Case conversions protoc and swift-protobuf users expect.
public enum Naming {
    /// protoc's default JSON name: underscores dropped, the letter after each one upper-cased.
    public static func jsonName(_ protoName: String) -> String {
        var out = ""
        var upperNext = false
        for c in protoName {
            if c == "_" {
                upperNext = true
            } else if upperNext {
                out += c.uppercased()
                upperNext = false
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `incident_manager` → `IncidentManager`; `v1alpha` → `V1alpha`.
    public static func upperCamel(_ name: String) -> String {
        var out = ""
        var upperNext = true
        for c in name {
            if c == "_" {
                upperNext = true
            } else if upperNext {
                out += c.uppercased()
                upperNext = false
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `event_id` → `eventId`; `NOT_SERVING` → `notServing`.
    public static func lowerCamel(_ name: String) -> String {
        let isAllCaps = !name.contains(where: { $0.isLowercase })
        let parts = name.split(separator: "_", omittingEmptySubsequences: true)
        var out = ""
        for (i, part) in parts.enumerated() {
            let word = isAllCaps ? part.lowercased() : String(part)
            if i == 0 {
                out += word.prefix(1).lowercased() + word.dropFirst()
            } else {
                out += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return out.isEmpty ? "_" : out
    }
}
