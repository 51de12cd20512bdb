import KernelMM

/// The model's slab geometry against the real kernel's, for the caches a trace touched: the
/// `<objsize> <objperslab> <pagesperslab>` columns of the trace's /proc/slabinfo snapshot
/// (mm/slab_common.c `cache_show`) beside the same columns of the model's cache of that name
/// (mm/slub.c `calculate_sizes`/`calculate_order` as `SlabLayout` models them). A difference
/// says where the model's layout rules and the real kernel's part: debug metadata, a
/// different `slub_min_objects`, an alignment the trace could not reveal.
public enum SlabGeometry {
    public struct Shape: Codable, Sendable, Equatable {
        public var objectSize: Int
        public var objectsPerSlab: Int
        public var pagesPerSlab: Int
        /// Active objects (real: from the snapshot; model: the replay's peak, when known).
        public var activeObjects: Int?
    }

    public struct Row: Codable, Sendable, Equatable {
        public var name: String
        /// The model cache it was compared with (kmalloc-cg-64 → kmalloc-64).
        public var modelName: String
        public var real: Shape?
        public var model: Shape?
        /// "objsize 104 vs 112", …; empty when they agree.
        public var differences: [String]
    }

    /// The rows of a /proc/slabinfo text by cache name.
    public static func parseSlabinfo(_ text: String) -> [String: Shape] {
        var out: [String: Shape] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("slabinfo") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, let active = Int(f[1]), let size = Int(f[3]), let per = Int(f[4]), let pages = Int(f[5]) else { continue }
            out[String(f[0])] = Shape(objectSize: size, objectsPerSlab: per, pagesPerSlab: pages, activeObjects: active)
        }
        return out
    }

    /// kmalloc-cg-64, kmalloc-rnd-07-64 and kmalloc-rcl-64 are kmalloc-64 in the model.
    static func modelName(_ real: String) -> String {
        let dma = real.hasPrefix("dma-")
        let base = dma ? String(real.dropFirst(4)) : real
        guard base.hasPrefix("kmalloc-"), let size = base.split(separator: "-").last else { return real }
        return (dma ? "dma-" : "") + "kmalloc-" + size
    }

    /// One row per touched cache; `peaks` are the replay's most live objects per cache.
    public static func compare(slabinfo: String, model: [SlabAllocator.CacheInfo], touched: [String],
                               peaks: [String: Int] = [:]) -> [Row] {
        let real = parseSlabinfo(slabinfo)
        let byName = Dictionary(model.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return touched.sorted().map { name in
            let m = modelName(name)
            let r = real[name]
            let mm = byName[m].map { Shape(objectSize: $0.slotSize, objectsPerSlab: $0.objectsPerSlab, pagesPerSlab: $0.pagesPerSlab,
                                            activeObjects: peaks[m]) }
            var diffs: [String] = []
            if let r, let mm {
                if r.objectSize != mm.objectSize { diffs.append("objsize \(r.objectSize) vs \(mm.objectSize)") }
                if r.objectsPerSlab != mm.objectsPerSlab { diffs.append("objperslab \(r.objectsPerSlab) vs \(mm.objectsPerSlab)") }
                if r.pagesPerSlab != mm.pagesPerSlab { diffs.append("pagesperslab \(r.pagesPerSlab) vs \(mm.pagesPerSlab)") }
            } else if name.hasPrefix("unnamed-") {
                diffs.append("name unknown: kernels before 6.2 print no name= on kmem_cache_alloc, and no traced free named it")
            } else if r == nil {
                diffs.append("not in the trace's slabinfo (merged into another cache, or no snapshot)")
            } else {
                diffs.append("no model cache")
            }
            return Row(name: name, modelName: m, real: r, model: mm, differences: diffs)
        }
    }

    /// The table printed after a replay.
    public static func table(_ rows: [Row]) -> String {
        func col(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        func shape(_ s: Shape?) -> String { s.map { "\($0.objectSize)/\($0.objectsPerSlab)/\($0.pagesPerSlab)" } ?? "-" }
        let width = max(24, (rows.map(\.name.count).max() ?? 0) + 2)
        var out = "slab geometry, real kernel vs model (objsize/objperslab/pagesperslab):\n"
        // Live objects: the real cache's active objects before the traced command ran (all of
        // the system's, so an upper bound) beside the replay's peak for the traced command alone.
        func objects(_ r: Row) -> String {
            guard let peak = r.model?.activeObjects else { return "-" }
            return "\(r.real?.activeObjects.map(String.init) ?? "-")/\(peak)"
        }
        out += col("cache", width) + col("real", 14) + col("model", 14) + col("active/peak", 14) + "differences\n"
        for r in rows {
            out += col(r.name, width) + col(shape(r.real), 14) + col(shape(r.model), 14) + col(objects(r), 14)
                + (r.differences.isEmpty ? "same" : r.differences.joined(separator: "; ")) + "\n"
        }
        let same = rows.filter { $0.differences.isEmpty }.count
        out += "\(same) of \(rows.count) caches have the real kernel's geometry\n"
        return out
    }
}
