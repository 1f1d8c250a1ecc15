// The wire needs only JSON coders, Data and Date: FoundationEssentials keeps workers small and quick to start.
#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif
