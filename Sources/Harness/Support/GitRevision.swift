import Foundation

/// The short git revision a run was made with, read from the repository's files rather than
/// by starting `git`: a child process can hang (a minimal VM without loopback blocked git's
/// start-up for ever) and a run must not wait on one. Handles a plain `.git` folder, a
/// worktree's `.git` file, loose refs and `packed-refs`; anything else is "unknown".
enum GitRevision {
    /// Looks from `start` upwards for a repository.
    static func short(from start: String = FileManager.default.currentDirectoryPath) -> String {
        var dir = URL(fileURLWithPath: start).standardizedFileURL
        for _ in 0..<64 {
            if let gitDir = gitDirectory(in: dir), let sha = resolveHEAD(gitDir) { return String(sha.prefix(7)) }
            let up = dir.deletingLastPathComponent()
            if up.path == dir.path { break }
            dir = up
        }
        return "unknown"
    }

    /// `.git` as a folder, or as a file `gitdir: PATH` (worktrees, submodules).
    static func gitDirectory(in dir: URL) -> URL? {
        let dotGit = dir.appendingPathComponent(".git")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDir) else { return nil }
        if isDir.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : dir.appendingPathComponent(path)
    }

    static func resolveHEAD(_ gitDir: URL) -> String? {
        guard let head = read(gitDir.appendingPathComponent("HEAD")) else { return nil }
        guard head.hasPrefix("ref:") else { return isSHA(head) ? head : nil }
        let ref = head.dropFirst(4).trimmingCharacters(in: .whitespaces)
        // A worktree keeps HEAD of its own but shares refs with the main repository.
        let common = read(gitDir.appendingPathComponent("commondir")).map {
            $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : gitDir.appendingPathComponent($0)
        } ?? gitDir
        for base in [gitDir, common] {
            if let sha = read(base.appendingPathComponent(ref)), isSHA(sha) { return sha }
        }
        for base in [gitDir, common] {
            guard let packed = try? String(contentsOf: base.appendingPathComponent("packed-refs"), encoding: .utf8) else { continue }
            for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
                let sha = String(line.prefix { $0 != " " })
                if isSHA(sha) { return sha }
            }
        }
        return nil
    }

    static func read(_ url: URL) -> String? {
        (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isSHA(_ s: String) -> Bool { s.count >= 40 && s.allSatisfy(\.isHexDigit) }
}
