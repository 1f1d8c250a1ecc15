import Foundation

/// A checker for the Prometheus text exposition format (0.0.4), strict enough to catch what breaks scrapers:
/// line syntax, HELP/TYPE before samples, one TYPE per family, label escaping, histogram invariants.
enum ExpositionFormat {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Every problem found; empty means valid. Samples are returned for further checks.
    static func check(_ text: String) -> (problems: [String], samples: [Sample]) {
        var problems: [String] = []
        var samples: [Sample] = []
        var types: [String: String] = [:]
        let metricName = try! NSRegularExpression(pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$")
        func validName(_ name: String) -> Bool {
            metricName.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        }
        guard text.hasSuffix("\n") else { return (["the text must end with a newline"], []) }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let where_ = "line \(number + 1): \(line)"
            if line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count < 3 || !validName(String(parts[2])) { problems.append("bad HELP, \(where_)") }
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, validName(String(parts[2])),
                      ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                    problems.append("bad TYPE, \(where_)"); continue
                }
                if types[String(parts[2])] != nil { problems.append("second TYPE for \(parts[2]), \(where_)") }
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("#") || line.isEmpty {
                continue
            } else {
                guard let sample = parseSample(String(line)) else { problems.append("bad sample, \(where_)"); continue }
                if !validName(sample.name) { problems.append("bad metric name, \(where_)") }
                let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                    name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram" ? String(name.dropLast(suffix.count)) : name
                }
                if types[family] == nil { problems.append("sample before its TYPE, \(where_)") }
                samples.append(sample)
            }
        }
        // Histograms: cumulative buckets, +Inf equal to _count.
        for (family, type) in types where type == "histogram" {
            let buckets = samples.filter { $0.name == family + "_bucket" }
            let series = Dictionary(grouping: buckets) { $0.labels.filter { $0.key != "le" }.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ",") }
            for (key, bucketSamples) in series {
                let values = bucketSamples.map(\.value)
                if values != values.sorted() { problems.append("\(family){\(key)} buckets are not cumulative") }
                guard let infinite = bucketSamples.first(where: { $0.labels["le"] == "+Inf" }) else { problems.append("\(family){\(key)} has no +Inf bucket"); continue }
                let count = samples.first { $0.name == family + "_count" && $0.labels == infinite.labels.filter { $0.key != "le" } }
                if count?.value != infinite.value { problems.append("\(family){\(key)} +Inf bucket differs from _count") }
            }
        }
        return (problems, samples)
    }

    /// `name{a="x",b="y"} value` with escaped label values.
    static func parseSample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0 != "{" && $0 != " " }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let valueText = rest.dropFirst()
        let value: Double? = switch valueText {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(valueText)
        }
        return value.map { Sample(name: String(name), labels: labels, value: $0) }
    }
}
