import Testing

/// Every suite that spawns daemons and workers nests here, so they run one at a time: on a 2-core machine,
/// parallel suites would starve each other's heartbeats and turn timing into flakiness.
@Suite(.serialized, .timeLimit(.minutes(5)))
enum RealProcesses {}
