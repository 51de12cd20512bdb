import Foundation
import KernelMM
import Topology

extension OpKind {
    /// This kind's bit in a set of kinds held in one word.
    fileprivate var bit: UInt32 { 1 << UInt32(Self.allCases.firstIndex(of: self)!) }

    /// The free that undoes an allocation, and the allocation a free undoes.
    fileprivate var counterpart: OpKind {
        switch self {
        case .kmalloc: return .kfree
        case .kmemCacheAlloc: return .kmemCacheFree
        case .allocPages: return .freePages
        case .vmalloc: return .vfree
        case .kfree: return .kmalloc
        case .kmemCacheFree: return .kmemCacheAlloc
        case .freePages: return .allocPages
        case .vfree: return .vmalloc
        case .mmap: return .munmap
        case .munmap: return .mmap
        }
    }
}

extension ConfigReader {
    /// A producer names its consumer (`handoff:`) and the consumer names it back (`from:`): the
    /// consumer frees, on its own CPUs, what the producer allocates, as a NIC's TX completion
    /// frees the skb that RX allocated. Both ends must agree, and the frees must match the
    /// allocations, or objects would pile up with nobody to free them.
    /// `index` maps each workload's name to its place in `entries`.
    func link(_ entries: [WorkloadEntry], index: [String: Int]) throws {
        // Built only for an error's hint: it is as long as the config.
        var names: String { "workloads: " + entries.map(\.spec.name).joined(separator: ", ") }
        // What each workload's mix calls, as bits: a check is then O(1) however long the mixes.
        let kinds = entries.map { e in e.spec.mix.reduce(into: UInt32(0)) { $0 |= $1.kind.bit } }
        // Caches a producer allocates from: looked for in short mixes, by set in long ones.
        var cacheSets: [Int: Set<String>] = [:]
        func allocates(_ si: Int, from cache: String) -> Bool {
            let mix = entries[si].spec.mix
            guard mix.count > 16 else { return mix.contains { $0.kind == .kmemCacheAlloc && $0.cache == cache } }
            if cacheSets[si] == nil { cacheSets[si] = Set(mix.compactMap { $0.kind == .kmemCacheAlloc ? $0.cache : nil }) }
            return cacheSets[si]!.contains(cache)
        }
        for (i, e) in entries.enumerated() {
            let w = e.spec, path = "workloads[\(i)]"
            let ops = Array(zip(w.mix, e.opFields))
            if w.from == nil, let (op, f) = ops.first(where: { $0.0.kind.isFree }) {
                throw fail(f["op"], "\(path): \(op.kind.rawValue) frees what another workload hands off, so it needs from: WORKLOAD",
                           hint: "the producer names this workload in handoff:")
            }
            if let src = w.from, let at = e.fields["from"] {
                guard src != w.name else { throw fail(at, "\(path).from: a workload cannot take from itself") }
                guard let si = index[src] else { throw fail(at, "\(path).from: no workload named \"\(src)\"", hint: names) }
                let s = entries[si]
                guard s.spec.handoff == w.name else {
                    throw fail(at, "\(path).from: workload \"\(src)\" does not hand off to \"\(w.name)\"", hint: "add handoff: \(w.name) to workload \(src)")
                }
                for (op, f) in ops {
                    guard op.kind.isFree else {
                        throw fail(f["op"], "\(path): a consumer (from: \(src)) only frees, but \(op.kind.rawValue) allocates",
                                   hint: "put allocations in a workload of their own")
                    }
                    let alloc = op.kind.counterpart
                    guard kinds[si] & alloc.bit != 0 else {
                        throw fail(f["op"], "\(path): \(op.kind.rawValue) frees \(alloc.rawValue) objects, but \"\(src)\" never calls \(alloc.rawValue)")
                    }
                    if let c = op.cache, !allocates(si, from: c) {
                        throw fail(f["cache"], "\(path): \"\(src)\" never allocates from cache \"\(c)\"")
                    }
                }
            }
            if let dst = w.handoff, let at = e.fields["handoff"] {
                guard dst != w.name else { throw fail(at, "\(path).handoff: a workload cannot hand off to itself") }
                guard w.from == nil else { throw fail(at, "\(path).handoff: a consumer only frees, so it has nothing to hand off") }
                guard let di = index[dst] else { throw fail(at, "\(path).handoff: no workload named \"\(dst)\"", hint: names) }
                let d = entries[di]
                guard d.spec.from == w.name else {
                    throw fail(at, "\(path).handoff: workload \"\(dst)\" does not take from \"\(w.name)\"", hint: "add from: \(w.name) to workload \(dst)")
                }
                for op in w.mix where kinds[di] & op.kind.counterpart.bit == 0 {
                    throw fail(at, "\(path).handoff: \"\(dst)\" has no \(op.kind.counterpart.rawValue) for what \(op.kind.rawValue) allocates",
                               hint: "add op \(op.kind.counterpart.rawValue) to workload \(dst)")
                }
            }
        }
    }
}
