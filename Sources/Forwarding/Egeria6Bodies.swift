import Foundation
import Protocol

/// Request bodies of Egeria 6's open-metadata-store API (OMF), written straight to bytes: one is made for every
/// forwarded report, so they skip `JSONEncoder`. Shapes are in docs/egeria.md and ../shared/docs/EGERIA-6.md §3.2.
enum Egeria6Bodies {
    /// The activity report's unique name; it carries the report id, which is how a replay finds it.
    static func reportQualifiedName(_ report: IntegrationReport) -> String {
        "ConnectorActivityReport::\(report.connectorId)::\(report.connectorName)::\(report.reportId)"
    }

    /// The connector's `IntegrationConnector` element, the anchor of its reports.
    static func connectorQualifiedName(server: String, connectorName: String) -> String {
        "\(server)::IntegrationConnector::\(connectorName)"
    }

    /// `NewOpenMetadataElementRequestBody` for a `ConnectorActivityReport` anchored to (and a `ReportSubject`
    /// child of) the connector's element.
    static func activityReport(_ report: IntegrationReport, anchorGUID: String, externalSourceName: String?) -> Data {
        var w = JSONWriter(capacity: 1024 + 64 * (report.createdElements.count + report.updatedElements.count + report.deletedElements.count))
        w.raw("{\"class\":\"NewOpenMetadataElementRequestBody\",\"typeName\":\"ConnectorActivityReport\"")
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw(",\"anchorGUID\":"); w.string(anchorGUID)
        w.raw(",\"isOwnAnchor\":false,\"parentGUID\":"); w.string(anchorGUID)
        w.raw(",\"parentRelationshipTypeName\":\"ReportSubject\",\"parentAtEnd1\":true,\"forLineage\":true,\"forDuplicateProcessing\":false")
        w.raw(",\"initialStatus\":\"ACTIVE\",\"properties\":{\"class\":\"NewElementProperties\",\"propertyValueMap\":{")
        primitive(&w, "qualifiedName", reportQualifiedName(report), first: true)
        primitive(&w, "serverName", report.serverName)
        primitive(&w, "connectorId", report.connectorId)
        primitive(&w, "connectorName", report.connectorName)
        date(&w, "startTime", report.refreshStartDate)
        if let completed = report.refreshCompletionDate { date(&w, "completionTime", completed) }
        array(&w, "createdElements", report.createdElements)
        array(&w, "updatedElements", report.updatedElements)
        array(&w, "deletedElements", report.deletedElements)
        map(&w, "additionalProperties", report.additionalProperties.merging(["reportId": report.reportId]) { _, ours in ours })
        w.raw("}}}")
        return Data(w.bytes)
    }

    /// `NewOpenMetadataElementRequestBody` for a plain element (a connector's write, or the connector's own element).
    /// With `parent`, the element is created under that relationship (`parentGUID`, `parentRelationshipTypeName`,
    /// `parentAtEnd1`, `parentRelationshipProperties`); `classifications` go as `initialClassifications`.
    static func newElement(typeName: String, properties: [String: JSONValue], externalSourceName: String?,
                           parent: ParentLink? = nil, classifications: Classifications = [:]) -> Data {
        var w = JSONWriter(capacity: 512)
        w.raw("{\"class\":\"NewOpenMetadataElementRequestBody\",\"typeName\":"); w.string(typeName)
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw(",\"isOwnAnchor\":true,\"forLineage\":false,\"forDuplicateProcessing\":false,\"initialStatus\":\"ACTIVE\"")
        if let parent {
            w.raw(",\"parentGUID\":"); w.string(parent.parentGUID)
            w.raw(",\"parentRelationshipTypeName\":"); w.string(parent.relationshipTypeName)
            w.raw(parent.parentAtEnd1 ? ",\"parentAtEnd1\":true" : ",\"parentAtEnd1\":false")
            if !parent.properties.isEmpty {
                w.raw(",\"parentRelationshipProperties\":")
                elementProperties(&w, parent.properties, className: "ElementProperties")
            }
        }
        if !classifications.isEmpty {
            w.raw(",\"initialClassifications\":{")
            for (index, name) in classifications.keys.sorted().enumerated() {
                if index > 0 { w.raw(",") }
                w.string(name)
                w.raw(":")
                elementProperties(&w, classifications[name]!, className: "NewElementProperties")
            }
            w.raw("}")
        }
        w.raw(",\"properties\":")
        elementProperties(&w, properties, className: "NewElementProperties")
        w.raw("}")
        return Data(w.bytes)
    }

    /// `NewRelatedElementsRequestBody` for `POST /related-elements`.
    static func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue], externalSourceName: String?) -> Data {
        var w = JSONWriter(capacity: 400)
        w.raw("{\"class\":\"NewRelatedElementsRequestBody\",\"typeName\":"); w.string(typeName)
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw(",\"metadataElement1GUID\":"); w.string(end1GUID)
        w.raw(",\"metadataElement2GUID\":"); w.string(end2GUID)
        w.raw(",\"forLineage\":false,\"forDuplicateProcessing\":false,\"properties\":")
        elementProperties(&w, properties, className: "ElementProperties")
        w.raw("}")
        return Data(w.bytes)
    }

    /// `NewClassificationRequestBody` for `POST /metadata-elements/{guid}/classifications/{name}`.
    static func classify(properties: [String: JSONValue], externalSourceName: String?) -> Data {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"class\":\"NewClassificationRequestBody\"")
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw(",\"forLineage\":false,\"forDuplicateProcessing\":false,\"properties\":")
        elementProperties(&w, properties, className: "NewElementProperties")
        w.raw("}")
        return Data(w.bytes)
    }

    /// `UpdatePropertiesRequestBody`: `mergeUpdate` false replaces every property.
    static func updateProperties(_ properties: [String: JSONValue], replace: Bool, externalSourceName: String?) -> Data {
        var w = JSONWriter(capacity: 512)
        w.raw("{\"class\":\"UpdatePropertiesRequestBody\",\"mergeUpdate\":")
        w.raw(replace ? "false" : "true")
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw(",\"forLineage\":false,\"forDuplicateProcessing\":false,\"properties\":")
        elementProperties(&w, properties, className: "ElementProperties")
        w.raw("}")
        return Data(w.bytes)
    }

    /// `OpenMetadataDeleteRequestBody`.
    static func delete(externalSourceName: String?) -> Data {
        var w = JSONWriter(capacity: 160)
        w.raw("{\"class\":\"OpenMetadataDeleteRequestBody\",\"cascadedDelete\":false,\"forLineage\":false,\"forDuplicateProcessing\":false")
        if let externalSourceName { w.raw(",\"externalSourceName\":"); w.string(externalSourceName) }
        w.raw("}")
        return Data(w.bytes)
    }

    /// `FindRequestBody` with one condition `qualifiedName EQ name`, as the Java client's getMetadataElementByUniqueName builds it.
    static func findByQualifiedName(_ name: String, typeName: String) -> Data {
        var w = JSONWriter(capacity: 400)
        w.raw("{\"class\":\"FindRequestBody\",\"metadataElementTypeName\":"); w.string(typeName)
        w.raw(",\"searchProperties\":{\"class\":\"SearchProperties\",\"conditions\":[{\"class\":\"PropertyCondition\",\"property\":\"qualifiedName\",\"operator\":\"EQ\",\"value\":")
        primitiveValue(&w, .string(name))
        w.raw("}],\"matchCriteria\":\"ALL\"},\"limitResultsByStatus\":[\"ACTIVE\"],\"forLineage\":true,\"forDuplicateProcessing\":false,\"startFrom\":0,\"pageSize\":10}")
        return Data(w.bytes)
    }

    /// The GUID of the element in an `OpenMetadataElementsResponse` whose qualifiedName is exactly `name`;
    /// Egeria leaves `elements` out when nothing matched.
    static func guid(in response: Data, qualifiedName name: String) -> String? {
        guard case .object(let body)? = try? JSONParser.parse(response), case .array(let elements)? = body["elements"] else { return nil }
        for element in elements {
            guard case .string(let guid)? = element["elementGUID"] else { continue }
            let value = element["elementProperties"]?["propertyValueMap"]?["qualifiedName"]?["primitiveValue"]
            if value == .string(name) { return guid }
        }
        return nil
    }

    // MARK: - Property values

    private static func elementProperties(_ w: inout JSONWriter, _ properties: [String: JSONValue], className: StaticString) {
        w.raw("{\"class\":\""); w.raw(className); w.raw("\",\"propertyValueMap\":{")
        for (index, name) in properties.keys.sorted().enumerated() {
            if index > 0 { w.raw(",") }
            w.string(name)
            w.raw(":")
            primitiveValue(&w, properties[name]!)
        }
        w.raw("}}")
    }

    private static func primitive(_ w: inout JSONWriter, _ name: StaticString, _ value: String, first: Bool = false) {
        w.key(name, first: first)
        primitiveValue(&w, .string(value))
    }

    /// A `PrimitiveTypePropertyValue`; structured JSON goes as its JSON text.
    private static func primitiveValue(_ w: inout JSONWriter, _ value: JSONValue) {
        w.raw("{\"class\":\"PrimitiveTypePropertyValue\",")
        switch value {
        case .bool(let flag): w.raw("\"typeName\":\"boolean\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_BOOLEAN\",\"primitiveValue\":"); w.raw(flag ? "true" : "false")
        case .int(let number): w.raw("\"typeName\":\"long\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_LONG\",\"primitiveValue\":"); w.int(number)
        case .double(let number): w.raw("\"typeName\":\"double\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_DOUBLE\",\"primitiveValue\":"); w.double(number)
        case .string(let text): w.raw("\"typeName\":\"string\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_STRING\",\"primitiveValue\":"); w.string(text)
        default: w.raw("\"typeName\":\"string\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_STRING\",\"primitiveValue\":"); w.string(value.compactDescription)
        }
        w.raw("}")
    }

    /// Dates are epoch-millisecond longs (`OM_PRIMITIVE_TYPE_DATE`).
    private static func date(_ w: inout JSONWriter, _ name: StaticString, _ date: Date) {
        w.key(name)
        w.raw("{\"class\":\"PrimitiveTypePropertyValue\",\"typeName\":\"date\",\"primitiveTypeCategory\":\"OM_PRIMITIVE_TYPE_DATE\",\"primitiveValue\":")
        w.int(Int(EpochMillis.int64(date)))
        w.raw("}")
    }

    private static func array(_ w: inout JSONWriter, _ name: StaticString, _ values: [String]) {
        w.key(name)
        w.raw("{\"class\":\"ArrayTypePropertyValue\",\"typeName\":\"array<string>\",\"arrayCount\":")
        w.int(values.count)
        w.raw(",\"arrayValues\":{\"class\":\"ElementProperties\",\"propertyValueMap\":{")
        for (index, value) in values.enumerated() {
            if index > 0 { w.raw(",") }
            w.string(String(index))
            w.raw(":")
            primitiveValue(&w, .string(value))
        }
        w.raw("}}}")
    }

    private static func map(_ w: inout JSONWriter, _ name: StaticString, _ values: [String: String]) {
        w.key(name)
        w.raw("{\"class\":\"MapTypePropertyValue\",\"typeName\":\"map<string,string>\",\"mapValues\":{\"class\":\"ElementProperties\",\"propertyValueMap\":{")
        for (index, key) in values.keys.sorted().enumerated() {
            if index > 0 { w.raw(",") }
            w.string(key)
            w.raw(":")
            primitiveValue(&w, .string(values[key]!))
        }
        w.raw("}}}")
    }
}
