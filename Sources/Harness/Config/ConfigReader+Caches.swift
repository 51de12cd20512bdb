import KernelMM
import Topology

extension ConfigReader {
    /// Names of the caches `SlabAllocator` makes at boot (`SlabAllocator.kmallocCacheNames`), and
    /// of any it may add: a user cache of such a name would fail to be created at run time.
    static let reservedCachePrefixes = ["kmalloc-", "dma-kmalloc-"]

    /// `caches:` with each cache's slab layout worked out, which also refuses sizes and
    /// alignments SLUB could not lay out, reserved names, and more caches than the registry holds.
    func caches(_ n: YNode, cpus: Int, slubDebug: SlubDebugOptions) throws -> [(spec: CacheSpec, layout: SlabLayout)] {
        var out: [(spec: CacheSpec, layout: SlabLayout)] = []
        var seen: [String: YNode] = [:]
        let items = try sequence(n, "caches", expected: "a list of { name, size, ... }")
        guard items.count <= SlabAllocator.maxUserCaches else {
            throw fail(n, "caches: at most \(SlabAllocator.maxUserCaches) caches, got \(items.count)",
                       hint: "the slab registry holds \(SlabAllocator.maxUserCaches) caches beside the kmalloc ones")
        }
        for (i, item) in items.enumerated() {
            let path = "caches[\(i)]"
            let f = try fields(item, path, allowed: ConfigKeys.cache)
            let nameNode = try require(f, "name")
            let name = try self.name(nameNode, "\(path).name")
            if let first = seen[name] {
                throw fail(nameNode, "\(path).name: cache \"\(name)\" is already defined", hint: "first defined at line \(first.mark.line)")
            }
            seen[name] = nameNode
            if Self.reservedCachePrefixes.contains(where: name.hasPrefix) {
                throw fail(nameNode, "\(path).name: \"\(name)\" is reserved: the model creates the kmalloc-* and dma-kmalloc-* caches itself",
                           hint: "give the cache a name of its own; kmalloc reaches the kmalloc caches")
            }
            let sizeNode = try require(f, "size")
            var spec = CacheSpec(name: name, size: try size(sizeNode, "\(path).size"))
            guard (1...(32 << 10)).contains(spec.size) else {
                throw fail(sizeNode, "\(path).size: must be 1 B…32 KiB, got \(Units.format(spec.size))", hint: "larger objects come from alloc_pages or vmalloc")
            }
            if let v = f["align"] {
                spec.align = try int(v, "\(path).align", min: 0)
                guard spec.align & (spec.align - 1) == 0 else {
                    throw fail(v, "\(path).align: must be a power of two, got \(spec.align)", hint: "0 means the default (word size)")
                }
            }
            if let v = f["flags"] {
                for (j, fl) in try sequence(v, "\(path).flags", expected: "a list like [SLAB_HWCACHE_ALIGN]").enumerated() {
                    let t = try string(fl, "\(path).flags[\(j)]")
                    guard let flag = SlabFlags.named(t) else {
                        throw fail(fl, "\(path).flags[\(j)]: unknown flag \"\(t)\"", hint: "flags: " + SlabFlags.names.map(\.0).joined(separator: ", "))
                    }
                    spec.flags.insert(flag)
                }
            }
            if let v = f["ctor"] { spec.ctor = try bool(v, "\(path).ctor") }
            if let v = f["sheaf_capacity"] { spec.sheafCapacity = try int(v, "\(path).sheaf_capacity", min: 0, max: SlabSheaf.maxCapacity) }
            do {
                let flags = slubDebug.flags(for: spec.name, size: spec.size, align: spec.align, base: spec.flags, hasCtor: spec.ctor, cpus: cpus)
                let layout = try SlabLayout(size: spec.size, align: spec.align, flags: flags,
                                            hasCtor: spec.ctor, cpus: cpus)
                out.append((spec, layout))
            } catch {
                throw fail(item, "\(path): \((error as? SlabError)?.message ?? "\(error)")")
            }
        }
        return out
    }

    /// Every CPU takes one slab of each cache from its own node before the first free, so a
    /// node must hold a slab of each cache's order for each of its CPUs (the busiest node counts).
    func checkFit(_ caches: [(spec: CacheSpec, layout: SlabLayout)], key: YNode?, memory: MemoryConfig, machine: Machine) throws {
        let cpus = machine.nodes.map(\.pus.count).max() ?? machine.pus.count
        let perCPU = caches.reduce(0) { $0 + (pageSize << $1.layout.order) }
        guard perCPU * cpus > memory.perNodeBytes else { return }
        throw fail(key, "caches: one slab per cache per CPU needs \(Units.format(perCPU)) × \(cpus) CPUs = \(Units.format(perCPU * cpus)) per node, more than memory.per_node (\(Units.format(memory.perNodeBytes)))",
                   hint: "raise memory.per_node or use fewer or smaller caches")
    }

    /// `run.slub_debug`: true (a bare `slub_debug`: F, Z, P, U everywhere), false, or the text of
    /// the kernel's `slub_debug=` option, e.g. `"FZ,kmalloc-32;P,obj*"`.
    func slubDebug(_ v: YNode) throws -> SlubDebugOptions {
        let t = try scalar(v, "run.slub_debug", expected: "true, false or a slub_debug= option string")
        if t == "true" { return .full }
        if t == "false" { return .off }
        do { return try SlubDebugOptions.parse(t) } catch let e as SlubDebugOptions.ParseError {
            throw fail(v, "run.slub_debug: \(e.message) at character \(e.offset + 1) of \"\(t)\"",
                       hint: "letters F Z P U T O or -, then optionally ,cache,cache…; blocks separated by ;")
        }
    }
}
