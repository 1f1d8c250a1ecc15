import Foundation
import Protocol

/// Everything the supervision loop reacts to; callbacks on any thread become one of these on one queue.
/// Worker events carry the service index and the worker's generation, so events from a replaced
/// incarnation are recognised and dropped.
enum SupervisorEvent: Sendable {
    case workerMessage(service: Int, generation: Int, Result<IncomingMessage, IncomingMessage.Violation>)
    /// `id` is the request's id when the line's start shows one, so the worker's call gets its answer.
    case workerOversizedLine(service: Int, generation: Int, byteCount: Int, id: RequestID?)
    /// The metadata proxy refused a call outside the worker's integration service.
    case workerRefused(service: Int, generation: Int, reason: String)
    case workerExited(service: Int, generation: Int, TerminationStatus)
    /// A live command from a door (control socket or REST); its reply must be called exactly once.
    case command(CommandCall)
    case signal(Int32)
    /// The door stored new OpenLineage events: connectors that take them and wait get the next batch.
    case lineageStored
    /// Integration groups read from their metadata access server: on their schedule, or for `refresh-config`,
    /// whose reply then takes what changed.
    case groupsRead([GroupReader.Reading], Reply<RefreshConfigCommand.Answer>?)
}
