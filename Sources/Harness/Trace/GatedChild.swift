import Foundation

/// The traced command, started but held at a gate: `/bin/sh` waits reading a pipe on fd 3, then
/// `exec`s the command. Its pid is known (and written to `set_event_pid`) before the command
/// does anything, and because the shell execs, the pid stays the command's own.
final class GatedChild {
    let pid: pid_t
    private var gate: Int32

    init(_ command: [String]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TraceError("pipe: \(String(cString: strerror(errno)))") }
        gate = fds[1]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 3)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        // Signals this process notes (SIGINT…) are the command's to act on by default.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        // Nor does the command inherit this process's blocked signals: a shell whose SIGCHLD
        // stays blocked waits for its background jobs forever.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attr, &unblocked)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ["/bin/sh", "-c", "read _gate <&3; exec 3<&-; exec \"$@\"", "numastress-trace"] + command
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/sh", &actions, &attr, cargs, environ)
        close(fds[0])
        guard rc == 0 else {
            close(fds[1])
            throw TraceError("cannot start /bin/sh for \(command.joined(separator: " ")): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// Lets the command run.
    func open() {
        _ = "go\n".withCString { write(gate, $0, 3) }
        close(gate)
        gate = -1
    }

    /// Waits for the command; 128+N when signal N ended it. A stop signal this process
    /// noted (SIGINT, SIGTERM, SIGHUP: see `RecorderSignals`) is passed on to the command, so that
    /// `timeout` or a kill of the recorder ends the command and the recorder still cleans up.
    func wait() -> Int32 {
        var status: Int32 = 0
        var forwarded = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return 127 }
            let sig = RecorderSignals.pending
            if sig != 0 && !forwarded { kill(pid, sig); forwarded = true }
            usleep(2_000)
        }
        let sig = status & 0x7f
        return sig == 0 ? (status >> 8) & 0xff : 128 + sig
    }

    /// Ends a child that will not be let through the gate.
    func abandon() {
        if gate >= 0 { close(gate); gate = -1 }
        kill(pid, SIGKILL)
        _ = wait()
    }
}
