import ArgumentParser
import Foundation
import Harness
import KernelMM

/// What every command shares: the version line, the exit statuses a script can rely on, and
/// enum options that ArgumentParser lists in help and completions.
enum CLIConventions {
    static let version = "0.2.0"
    static var versionLine: String { "numastress \(version) (git \(PackagePaths.gitRevision))" }

    /// Appended to every command's discussion: usage errors are ArgumentParser's EX_USAGE.
    static let usageExit = "64 a usage error (an unknown option, a missing or malformed argument; nothing ran)"

    /// `Exit status: …` for a command's discussion, usage errors included.
    static func exitStatus(_ codes: String) -> String { "Exit status: \(codes); \(usageExit)." }
}

extension AllocatorChoice: ExpressibleByArgument {}
extension SheafMode: ExpressibleByArgument {}

/// `--shake SEED` or `SEED:P`: schedule shaking with its seed and the chance per shaking point.
struct ShakeSpec: ExpressibleByArgument {
    var seed: UInt64
    var probability: Double

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let seed = UInt64(parts[0]) else { return nil }
        let p = parts.count == 2 ? Double(parts[1]) : 0.02
        guard let p, (0...1).contains(p) else { return nil }
        self.seed = seed
        probability = p
    }

    static var defaultValueDescription: String { "SEED or SEED:P, P in 0…1 (0.02 when left out)" }
}

/// Prints a machine-readable answer on stdout, written as every JSON output is.
func printJSON<T: Encodable>(_ value: T) {
    print((try? JSONCoding.string(value)) ?? "{}", terminator: "")
}
