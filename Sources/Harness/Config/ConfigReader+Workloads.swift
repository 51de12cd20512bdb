import Foundation
import KernelMM
import Topology

extension ConfigReader {
    /// A parsed workload with the nodes its cross-checks point at.
    struct WorkloadEntry {
        var spec: WorkloadSpec
        var fields: Fields
        /// For each operation of `spec.mix`: the mapping it came from (the workload itself for `op:`).
        var opFields: [Fields]
    }

    /// What the operations of all workloads are checked against.
    struct OpContext {
        var caches: [CacheSpec]
        var maxOrder: Int
        var nodes: Int = 1
        /// OS node numbers in the model's node order: configs name nodes as numactl does.
        var nodeOS: [Int] = [0]
        /// Cache names, for lookups that stay O(1) however many caches there are.
        var cacheNames: Set<String> = []
        /// Memory of one modelled node, and of all of them.
        var perNodeBytes: Int
        var machineBytes: Int
        /// The machine's CPUs, gathered once for every workload's selector.
        var inventory: CPUInventory
        /// The memory settings (a replay workload sizes its check against them).
        var memory = MemoryConfig()
        var cacheHint: String {
            caches.isEmpty ? "no caches are defined: add one under caches" : "caches: " + caches.map(\.name).joined(separator: ", ")
        }
    }
}

extension ConfigReader {
    func workloads(_ top: Fields, caches: [CacheSpec], memory: MemoryConfig, machine: Machine) throws -> [WorkloadSpec] {
        let n = try require(top, "workloads")
        let items = try sequence(n, "workloads", expected: "a list of workloads")
        guard !items.isEmpty else { throw fail(n, "workloads: needs at least one workload") }
        // No overflow: validation held per_node × nodes within what the host has.
        let ctx = OpContext(caches: caches, maxOrder: memory.maxOrder, nodes: machine.nodes.count, nodeOS: machine.nodeOSIndexes,
                            cacheNames: Set(caches.map(\.name)), perNodeBytes: memory.perNodeBytes,
                            machineBytes: memory.perNodeBytes * machine.nodes.count, inventory: CPUInventory(machine),
                            memory: memory)
        var entries: [WorkloadEntry] = []
        // Name → index into entries: linking and the uniqueness check look names up, and a
        // config may have a hundred thousand workloads.
        var index: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let e = try workload(item, "workloads[\(i)]", ctx: ctx)
            if let first = index[e.spec.name] {
                throw fail(e.fields["name"], "workloads[\(i)].name: workload \"\(e.spec.name)\" is already defined",
                           hint: "first defined at line \(entries[first].fields["name"]?.mark.line ?? 1)")
            }
            index[e.spec.name] = entries.count
            entries.append(e)
        }
        try link(entries, index: index)
        return entries.map(\.spec)
    }

    func workload(_ n: YNode, _ path: String, ctx: OpContext) throws -> WorkloadEntry {
        let f = try fields(n, path, allowed: ConfigKeys.workload)
        let name = try self.name(require(f, "name"), "\(path).name")
        var w = WorkloadSpec(name: name, cpus: .all)
        if let replay = try replayWorkload(f, path, w, machine: ctx.inventory.machine, memory: ctx.memory) { return replay }
        if let v = f["cpus"] {
            // A bare number is one CPU; anything else is selector text.
            if case .scalar(let s) = v, let id = Int(s.string) {
                guard id >= 0 else { throw fail(v, "\(path).cpus: CPU ids are ≥ 0, got \(id)") }
                w.cpus = .list([id])
            } else {
                do { w.cpus = try CPUSelector.parse(try string(v, "\(path).cpus")) } catch let e as ConfigValueError { throw fail(v, "\(path).cpus", e) }
            }
            do { try w.cpus.check(in: ctx.inventory) } catch { throw fail(v, "\(path).cpus", error) }
        }
        var opFields: [Fields] = []
        switch (f["op"], f["mix"]) {
        case (.some, .some):
            throw fail(f.key("mix"), "\(path): give either op or mix, not both")
        case (nil, nil):
            throw fail(n, "\(path): needs op (one operation) or mix (weighted operations)")
        case (.some, nil):
            w.mix = [try op(f, path, ctx: ctx)]
            opFields = [f]
        case (nil, .some(let m)):
            for k in ["size", "order", "cache", "prot", "policy", "huge"] where f[k] != nil {
                throw fail(f.key(k), "\(path): \(k) goes inside each mix entry when mix is used")
            }
            let list = try sequence(m, "\(path).mix", expected: "a list of { op, weight, ... }")
            guard !list.isEmpty else { throw fail(m, "\(path).mix: needs at least one operation") }
            for (j, item) in list.enumerated() {
                let ef = try fields(item, "\(path).mix[\(j)]", allowed: ConfigKeys.mixEntry)
                w.mix.append(try op(ef, ef.path, ctx: ctx))
                opFields.append(ef)
            }
            // Draws scale a uniform number by the total: an infinite one draws nothing sensible.
            guard w.mix.reduce(0, { $0 + $1.weight }).isFinite else {
                throw fail(m, "\(path).mix: the weights add up to more than a number can hold", hint: "weights are relative: scale them down")
            }
        }
        if let v = f["gfp"] {
            let t = try string(v, "\(path).gfp")
            do { w.gfp = try GFP.parse(t) } catch { throw fail(v, "\(path).gfp: \((error as? GFPError)?.message ?? "\(error)")") }
        }
        if let v = f["atomic_share"] {
            w.atomicShare = try number(v, "\(path).atomic_share")
            guard (0...1).contains(w.atomicShare) else { throw fail(v, "\(path).atomic_share: must be 0…1, got \(w.atomicShare)") }
        }
        if let v = f["lifetime"] { w.lifetime = try lifetime(v, "\(path).lifetime") }
        if let v = f["handoff"] { w.handoff = try string(v, "\(path).handoff") }
        if let v = f["from"] { w.from = try string(v, "\(path).from") }
        if let v = f["touch"] { w.touch = try touch(v, "\(path).touch") }
        if let v = f["allocator"] { w.allocator = try choice(v, "\(path).allocator", [AllocatorChoice.kernel, .malloc]) }
        return WorkloadEntry(spec: w, fields: f, opFields: opFields)
    }

    /// One operation from `f`: a mix entry, or the workload itself with `op:`. Each parameter
    /// belongs to some operations only; one given to another is most likely a mistake.
    func op(_ f: Fields, _ path: String, ctx: OpContext) throws -> OpSpec {
        let opNode = try require(f, "op")
        let kind = try choice(opNode, f.child("op"), OpKind.allCases)
        var op = OpSpec(kind: kind)
        let hint = "kmalloc and vmalloc take size, alloc_pages takes order, kmem_cache_alloc takes cache; frees take what they are handed"
        func stray(_ key: String) -> ConfigError { fail(f.key(key), "\(path): \(key) does not apply to \(kind.rawValue)", hint: hint) }
        if let v = f["weight"] {
            op.weight = try number(v, f.child("weight"))
            guard op.weight > 0 else { throw fail(v, "\(f.child("weight")): must be more than 0, got \(op.weight)") }
        }
        if let v = f["size"] {
            guard kind == .kmalloc || kind == .vmalloc || kind == .mmap else { throw stray("size") }
            op.size = try distribution(v, f.child("size")) { n, p in
                let bytes = try size(n, p)
                guard bytes > 0 else { throw fail(n, "\(p): \(kind.rawValue) size must be at least 1 byte") }
                guard bytes <= ConfigLimits.maxObjectBytes else {
                    throw fail(n, "\(p): \(kind.rawValue) of \(Units.format(bytes)) is more than a run can record: sizes must be below 2 GiB")
                }
                // vmalloc needs every page at once, kmalloc one block of one node; mmap only
                // what is touched, so a long sparse mapping is fine.
                let memory = kind == .vmalloc ? ctx.machineBytes : ctx.perNodeBytes
                guard kind == .mmap || bytes <= memory else {
                    throw fail(n, "\(p): \(kind.rawValue) of \(Units.format(bytes)) can never succeed: the modelled \(kind == .vmalloc ? "machine" : "node") has \(Units.format(memory))",
                               hint: "raise memory.per_node or ask for less")
                }
                // Above this kmalloc_large() fails every time: no block is that big.
                let largest = pageSize << ctx.maxOrder
                guard kind != .kmalloc || bytes <= largest else {
                    throw fail(n, "\(p): kmalloc of \(Units.format(bytes)) can never succeed: the largest block is \(Units.format(largest)) (order \(ctx.maxOrder))",
                               hint: "use vmalloc for large sizes")
                }
                return bytes
            }
        }
        if let v = f["order"] {
            guard kind == .allocPages else { throw stray("order") }
            op.order = try distribution(v, f.child("order")) { n, p in try int(n, p, min: 0, max: ctx.maxOrder) }
        }
        if let v = f["cache"] {
            guard kind == .kmemCacheAlloc || kind == .kmemCacheFree else { throw stray("cache") }
            let name = try string(v, f.child("cache"))
            guard ctx.cacheNames.contains(name) else {
                throw fail(v, "\(f.child("cache")): no cache named \"\(name)\"", hint: ctx.cacheHint)
            }
            op.cache = name
        }
        if let v = f["prot"] {
            guard kind == .mmap else { throw stray("prot") }
            op.prot = try choice(v, f.child("prot"), [Protection.readWrite, .readOnly])
        }
        if let v = f["huge"] {
            guard kind == .mmap else { throw stray("huge") }
            op.huge = try bool(v, f.child("huge"))
        }
        if let v = f["policy"] {
            guard kind == .mmap else { throw stray("policy") }
            op.policy = try policy(v, f.child("policy"), nodeOS: ctx.nodeOS)
        }
        if kind == .kmemCacheAlloc, op.cache == nil {
            throw fail(opNode, "\(path): kmem_cache_alloc needs cache: naming one of caches", hint: ctx.cacheHint)
        }
        return op
    }

    /// `first_touch` (or `local`), `interleave` (all nodes) or `interleave:0,2`, `bind:N`,
    /// `preferred:N`: the mbind modes.
    func policy(_ n: YNode, _ path: String, nodeOS: [Int]) throws -> MemPolicy {
        let t = try string(n, path)
        let nodes = nodeOS.count
        let hint = "first_touch, interleave, interleave:0,1, bind:N, preferred:N (nodes \(TopologyReport.ranges(nodeOS)))"
        // N is the OS node number; the policy holds the model's index.
        func node(_ s: Substring) throws -> Int {
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), let i = nodeOS.firstIndex(of: v) else {
                throw fail(n, "\(path): no node \"\(s)\"", hint: hint)
            }
            return i
        }
        let parts = t.split(separator: ":", maxSplits: 1)
        switch (parts.first.map(String.init), parts.count) {
        case ("first_touch", 1), ("local", 1): return .firstTouch
        case ("interleave", 1): return .interleave(Array(0..<nodes))
        case ("interleave", 2):
            let nodes = try parts[1].split(separator: ",").map(node)
            guard !nodes.isEmpty else { throw fail(n, "\(path): interleave over no node", hint: hint) }
            return .interleave(nodes)
        case ("bind", 2): return .bind(try node(parts[1]))
        case ("preferred", 2): return .preferred(try node(parts[1]))
        default: throw fail(n, "\(path): unknown policy \"\(t)\"", hint: hint)
        }
    }

    /// `64`, `{ uniform: [lo, hi] }` or `{ weighted: [[value, weight], ...] }`; `value` reads
    /// and checks one value at its own node.
    func distribution(_ n: YNode, _ path: String, value: (YNode, String) throws -> Int) throws -> Distribution {
        let shapes = "a value, { uniform: [lo, hi] } or { weighted: [[value, weight], ...] }"
        guard case .mapping = n else {
            guard case .scalar = n else { throw fail(n, "\(path): expected \(shapes), got \(n.summary)") }
            return .fixed(try value(n, path))
        }
        let f = try fields(n, path, allowed: ["uniform", "weighted"])
        guard f.entries.count == 1 else { throw fail(n, "\(path): expected \(shapes)") }
        let (kind, _, v) = f.entries[0]
        let p = f.child(kind)
        if kind == "uniform" {
            let bounds = try sequence(v, p, expected: "[lo, hi]")
            guard bounds.count == 2 else { throw fail(v, "\(p): expected [lo, hi], got \(bounds.count) values") }
            let lo = try value(bounds[0], "\(p)[0]"), hi = try value(bounds[1], "\(p)[1]")
            guard lo <= hi else { throw fail(v, "\(p): lo \(lo) is above hi \(hi)") }
            return .uniform(lo, hi)
        }
        let pairs = try sequence(v, p, expected: "a list of [value, weight] pairs")
        guard !pairs.isEmpty else { throw fail(v, "\(p): needs at least one [value, weight] pair") }
        let table: [(value: Int, weight: Double)] = try pairs.enumerated().map { i, pair in
            let two = try sequence(pair, "\(p)[\(i)]", expected: "[value, weight]")
            guard two.count == 2 else { throw fail(pair, "\(p)[\(i)]: expected [value, weight], got \(two.count) values") }
            let weight = try number(two[1], "\(p)[\(i)][1]")
            guard weight > 0 else { throw fail(two[1], "\(p)[\(i)][1]: weight must be more than 0, got \(weight)") }
            return (try value(two[0], "\(p)[\(i)][0]"), weight)
        }
        guard table.reduce(0, { $0 + $1.weight }).isFinite else {
            throw fail(v, "\(p): the weights add up to more than a number can hold", hint: "weights are relative: scale them down")
        }
        return .weighted(table)
    }

    /// `immediate` or `{ keep: N, order: fifo|lifo|random }`.
    func lifetime(_ n: YNode, _ path: String) throws -> Lifetime {
        guard case .mapping = n else {
            guard try scalar(n, path, expected: "immediate or { keep: N, order: fifo }") == "immediate" else {
                throw fail(n, "\(path): expected immediate or { keep: N, order: fifo|lifo|random }, got \(n.summary)")
            }
            return .immediate
        }
        let f = try fields(n, path, allowed: ["keep", "order"])
        let keep = try int(require(f, "keep"), "\(path).keep", min: 1)
        let order = try f["order"].map { try choice($0, "\(path).order", [LifetimeOrder.fifo, .lifo, .random]) } ?? .fifo
        return .keep(keep, order)
    }

    /// `64` (bytes) or `{ bytes: 64, pattern: 0x5a }`.
    func touch(_ n: YNode, _ path: String) throws -> TouchSpec {
        let bytesNode: YNode, f: Fields?
        if case .mapping = n {
            let m = try fields(n, path, allowed: ["bytes", "pattern"])
            bytesNode = try require(m, "bytes"); f = m
        } else { bytesNode = n; f = nil }
        let p = f == nil ? path : "\(path).bytes"
        var t = TouchSpec(bytes: try size(bytesNode, p))
        guard t.bytes > 0 else { throw fail(bytesNode, "\(p): must be at least 1 byte") }
        if let v = f?["pattern"] { t.pattern = UInt8(try int(v, "\(path).pattern", min: 0, max: 255)) }
        return t
    }
}
