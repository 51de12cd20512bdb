import KernelMM

extension ConfigReader {
    /// `faults: { double_free: 0.001, red_zone: 0.001, … }`: a chance 0…1 per kind. Each kind
    /// needs something to misuse — a slab object (kmalloc up to KMALLOC_MAX_CACHE_SIZE or
    /// kmem_cache_alloc) or pages (alloc_pages) allocated by the model in some workload — and
    /// the first injected fault must not stop the run (`on_slab_error: abort`).
    func faults(_ n: YNode, config: StressConfig) throws -> FaultSettings {
        let f = try fields(n, "faults", allowed: ConfigKeys.faults)
        var s = FaultSettings()
        let producing = config.workloads.filter { $0.allocator == .kernel && $0.from == nil && $0.replay == nil }
        let ops = producing.flatMap(\.mix)
        let slabObjects = ops.contains { op in
            op.kind == .kmemCacheAlloc || (op.kind == .kmalloc && op.size.minValue <= SlabAllocator.kmallocMaxCacheSize)
        }
        let pages = ops.contains { $0.kind == .allocPages }
        for kind in FaultKind.allCases {
            guard let v = f[kind.rawValue] else { continue }
            let path = "faults.\(kind.rawValue)"
            let rate = try number(v, path)
            guard (0...1).contains(rate) else { throw fail(v, "\(path): must be a chance 0…1 per allocation, got \(rate)") }
            if rate > 0 {
                if kind == .wrongOrder && !pages {
                    throw fail(v, "\(path): no workload calls alloc_pages, so there are no pages to free with the wrong order",
                               hint: "add an alloc_pages operation to a workload")
                }
                if kind.targetsSlabObject && !slabObjects {
                    throw fail(v, "\(path): no workload allocates slab objects (kmalloc up to 8 KiB or kmem_cache_alloc) to misuse",
                               hint: "add a kmalloc or kmem_cache_alloc operation to a workload")
                }
                if kind == .sleepInAtomic && producing.isEmpty {
                    throw fail(v, "\(path): no workload allocates through the model", hint: "the fault is made after an allocation of a workload")
                }
            }
            s.rates[kind] = rate
        }
        if config.run.onSlabError == .abort, !s.kinds.isEmpty {
            throw fail(n, "faults: cannot be combined with run.on_slab_error: abort: the first fault caught would stop the run",
                       hint: "drop on_slab_error or set it to continue")
        }
        return s
    }
}
