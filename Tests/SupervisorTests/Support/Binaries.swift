import Foundation

/// Where the built executables are: next to the test bundle, as SwiftPM builds all products into one folder.
enum Binaries {
    static let directory: String = {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [runner.deletingLastPathComponent().path]
        if runner.path.contains(".xctest") {
            var url = runner
            while url.path != "/" && !url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
            candidates.append(url.deletingLastPathComponent().path)
        }
        // Fallback: the package's own .build/debug, found from this source file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/integration-daemon") } ?? candidates[0]
    }()

    static var daemon: String { directory + "/integration-daemon" }
    static var worker: String { directory + "/integration-worker" }

    static var fixtures: String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").path
    }
}
