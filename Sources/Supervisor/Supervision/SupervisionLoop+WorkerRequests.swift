import Foundation
import Protocol

/// The metadata proxy and report intake: worker requests answered from the store once their writes are durable.
extension SupervisionLoop {
    /// Serves one worker request; `id` nil means the worker was replaced and nobody awaits the answer.
    func handleWorkerRequest(id: RequestID?, method: String, line: Data, from service: ServiceRuntime) {
        let reply = Replier(connection: id == nil ? nil : service.connection, id: id, encoder: encoder)
        switch method {
        case SubmitReport.name:
            switch decoder.params(SubmitReport.self, from: line) {
            case .success(let params):
                let report = params.report
                store.submitReport(report) { result in
                    reply.send(result.map { SubmitReport.Result(reportId: report.reportId, stored: $0) })
                }
            case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
            }
        case CreateElement.name:
            switch decoder.params(CreateElement.self, from: line) {
            case .success(let params): store.createElement(params) { reply.send($0.map(ElementResult.init)) }
            case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
            }
        case UpdateElement.name:
            switch decoder.params(UpdateElement.self, from: line) {
            case .success(let params): store.updateElement(params) { reply.send($0.map(ElementResult.init)) }
            case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
            }
        case DeleteElement.name:
            switch decoder.params(DeleteElement.self, from: line) {
            case .success(let params): store.deleteElement(params) { reply.send($0.map(ElementResult.init)) }
            case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
            }
        case FindElements.name:
            reply.send(decoder.params(FindElements.self, from: line).map { FindElements.Result(elements: store.findElements($0)) })
        default:
            service.protocolViolations += 1
            service.logger.warning("protocol violation: unknown method \(method)")
            reply.send(Result<Empty, RPCError>.failure(.methodNotFound(method)))
        }
    }
}

/// Answers one worker request from whichever thread finishes it (loop or journal commit thread).
struct Replier: Sendable {
    let connection: WorkerConnection?
    let id: RequestID?
    let encoder: MessageEncoder

    func send<R: Encodable>(_ result: Result<R, RPCError>) {
        guard let connection, let id else { return }
        switch result {
        case .success(let value):
            do { connection.send(try encoder.response(id: id, result: value)) } catch {
                connection.send(encoder.errorResponse(id: id, error: .internalError("cannot encode the answer: \(error)")))
            }
        case .failure(let error):
            connection.send(encoder.errorResponse(id: id, error: error))
        }
    }
}
