import Foundation
import Protocol

/// Egeria's `IntegrationReportProperties`, with our report id in `additionalProperties.reportId` as the
/// idempotency key for replays after a crash.
struct ReportBody: Encodable {
    let `class` = "IntegrationReportProperties"
    let serverName: String
    let connectorId: String
    let connectorName: String
    let refreshStartDate: Date
    let refreshCompletionDate: Date?
    let createdElements: [String]
    let updatedElements: [String]
    let deletedElements: [String]
    let additionalProperties: [String: String]

    init(_ report: IntegrationReport) {
        serverName = report.serverName
        connectorId = report.connectorId
        connectorName = report.connectorName
        refreshStartDate = report.refreshStartDate
        refreshCompletionDate = report.refreshCompletionDate
        createdElements = report.createdElements
        updatedElements = report.updatedElements
        deletedElements = report.deletedElements
        additionalProperties = report.additionalProperties.merging(["reportId": report.reportId]) { _, ours in ours }
    }

    /// The same JSON as `JSONEncoder.daemon` would write, built directly: it is made once per forwarded report.
    var json: Data {
        var writer = JSONWriter(capacity: 320 + (createdElements.count + updatedElements.count + deletedElements.count) * 40)
        func list(_ key: StaticString, _ values: [String]) {
            writer.key(key)
            writer.strings(values)
        }
        func millis(_ date: Date) -> Int { Int(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }
        writer.raw("{")
        writer.key("additionalProperties", first: true)
        writer.stringObject(additionalProperties)
        writer.raw(",\"class\":\"IntegrationReportProperties\"")
        writer.key("connectorId")
        writer.string(connectorId)
        writer.key("connectorName")
        writer.string(connectorName)
        list("createdElements", createdElements)
        list("deletedElements", deletedElements)
        if let refreshCompletionDate {
            writer.key("refreshCompletionDate")
            writer.int(millis(refreshCompletionDate))
        }
        writer.key("refreshStartDate")
        writer.int(millis(refreshStartDate))
        writer.key("serverName")
        writer.string(serverName)
        list("updatedElements", updatedElements)
        writer.raw("}")
        return Data(writer.bytes)
    }
}

/// Egeria's `NewMetadataElementRequestBody` (the fields we set).
struct NewElementBody: Encodable {
    let `class` = "NewMetadataElementRequestBody"
    let externalSourceName: String?
    let typeName: String
    let initialStatus = "ACTIVE"
    let properties: ElementProperties
}

/// Egeria's `UpdatePropertiesRequestBody`.
struct UpdatePropertiesBody: Encodable {
    let `class` = "UpdatePropertiesRequestBody"
    let externalSourceName: String?
    let replaceProperties: Bool
    let forLineage = false
    let forDuplicateProcessing = false
    let properties: ElementProperties
}

/// Egeria's `UpdateRequestBody` (the delete call's body).
struct UpdateRequestBody: Encodable {
    let `class` = "UpdateRequestBody"
    let externalSourceName: String?
    let forLineage = false
    let forDuplicateProcessing = false
}

/// Egeria's `ElementProperties`: each value a `PrimitiveTypePropertyValue` with its open metadata type.
struct ElementProperties: Encodable {
    let `class` = "ElementProperties"
    let propertyValueMap: [String: PrimitiveValue]

    init(_ properties: [String: JSONValue]) {
        propertyValueMap = properties.mapValues(PrimitiveValue.init)
    }

    /// One `PrimitiveTypePropertyValue`; structured JSON values are sent as their JSON text.
    struct PrimitiveValue: Encodable {
        let `class` = "PrimitiveTypePropertyValue"
        let typeName: String
        let primitiveTypeCategory: String
        let primitiveValue: JSONValue

        init(_ value: JSONValue) {
            switch value {
            case .bool: (typeName, primitiveTypeCategory, primitiveValue) = ("boolean", "OM_PRIMITIVE_TYPE_BOOLEAN", value)
            case .int: (typeName, primitiveTypeCategory, primitiveValue) = ("long", "OM_PRIMITIVE_TYPE_LONG", value)
            case .double: (typeName, primitiveTypeCategory, primitiveValue) = ("double", "OM_PRIMITIVE_TYPE_DOUBLE", value)
            case .string: (typeName, primitiveTypeCategory, primitiveValue) = ("string", "OM_PRIMITIVE_TYPE_STRING", value)
            default: (typeName, primitiveTypeCategory, primitiveValue) = ("string", "OM_PRIMITIVE_TYPE_STRING", .string(value.compactDescription))
            }
        }
    }
}

extension EgeriaClient.Outcome {
    /// The outcome with secrets scrubbed from its reason.
    var redacted: Self {
        switch self {
        case .delivered: .delivered
        case .retry(let reason): .retry(Redaction.scrub(reason))
        case .reject(let reason): .reject(Redaction.scrub(reason))
        }
    }
}
