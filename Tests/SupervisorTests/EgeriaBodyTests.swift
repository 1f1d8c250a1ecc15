import Foundation
import Protocol
import Testing
@testable import Forwarding
@testable import Supervisor

/// Egeria request bodies and answers, without a server.
@Suite("Egeria bodies")
struct EgeriaBodyTests {
    @Test func handBuiltReportJSON_matchesTheEncoder() throws {
        let report = IntegrationReport(reportId: "r\"1", serverName: "s\\n", connectorId: "id", connectorName: "c\u{1}",
                                       refreshStartDate: Date(timeIntervalSince1970: 1.2345), refreshCompletionDate: Date(timeIntervalSince1970: 2),
                                       createdElements: ["a", "b"], updatedElements: [], deletedElements: ["x"],
                                       additionalProperties: ["outcome": "completed", "zeta": "ü"])
        let body = ReportBody(report)
        let expected = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder.daemon.encode(body))
        let handBuilt = try JSONDecoder().decode(JSONValue.self, from: body.json)
        #expect(handBuilt == expected)
        #expect(handBuilt["additionalProperties"]?["reportId"] == .string("r\"1"))
    }

    @Test func classify_readsEgeriasFFDCBodies() {
        func data(_ text: String) -> Data { Data(text.utf8) }
        #expect(EgeriaClient.classify(status: 200, body: data("{\"class\":\"VoidResponse\",\"relatedHTTPCode\":200}")) == .delivered)
        #expect(EgeriaClient.classify(status: 200, body: data("")) == .delivered)
        guard case .reject(let reason) = EgeriaClient.classify(status: 200, body: data("{\"relatedHTTPCode\":400,\"exceptionClassName\":\"InvalidParameterException\",\"exceptionErrorMessage\":\"bad\"}"))
        else { Issue.record("an FFDC 400 must be rejected"); return }
        #expect(reason == "HTTP 400 InvalidParameterException: bad")
        guard case .retry = EgeriaClient.classify(status: 200, body: data("{\"relatedHTTPCode\":503,\"exceptionClassName\":\"PropertyServerException\"}")) else {
            Issue.record("an FFDC 503 must be retried"); return
        }
        guard case .retry = EgeriaClient.classify(status: 429, body: nil) else { Issue.record("429 must be retried"); return }
        guard case .reject = EgeriaClient.classify(status: 404, body: nil) else { Issue.record("404 must be rejected"); return }
    }
}
