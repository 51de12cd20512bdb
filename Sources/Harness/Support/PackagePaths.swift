import Foundation

/// Where this build's package is, so that defaults such as `Configs/quickstart.yaml` are found
/// from any current folder. The path is the one the sources were compiled from; a binary copied
/// to another machine (a static build for a device) has no package there, and falls back to
/// paths relative to the current folder.
public enum PackagePaths {
    /// The package root (the folder holding Package.swift), when it still exists.
    public static let root: String? = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }   // Sources/Harness/Support/<file>
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) ? url.path : nil
    }()

    /// `relative` inside the package when it exists there, else as given (relative to the
    /// current folder).
    public static func resolve(_ relative: String) -> String {
        if FileManager.default.fileExists(atPath: relative) { return relative }
        guard let root, FileManager.default.fileExists(atPath: root + "/" + relative) else { return relative }
        return root + "/" + relative
    }

    /// The git revision of the package the binary was built from (`unknown` without one).
    public static var gitRevision: String { GitRevision.short(from: root ?? FileManager.default.currentDirectoryPath) }
}
