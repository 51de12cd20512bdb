import KernelMM

/// The kinds of misuse `faults:` injects, each the bug a kernel debug facility exists to
/// catch (the cases of mm/slub_kunit.c and KFENCE's tests, and CONFIG_DEBUG_ATOMIC_SLEEP's).
public enum FaultKind: String, CaseIterable, Sendable, Codable {
    /// Free a slab object twice in a row (`free_consistency_checks`: "Object already free").
    case doubleFree = "double_free"
    /// Free a pointer into the middle of a live slab object (`check_valid_pointer`).
    case invalidFree = "invalid_free"
    /// Free a pointer that is no kernel memory at all.
    case foreignFree = "foreign_free"
    /// Write one byte past the object's end (`check_bytes_and_report`: "Right Redzone overwritten").
    case redZone = "red_zone"
    /// Write into an object after freeing it ("Poison overwritten").
    case useAfterFree = "use_after_free"
    /// `kmem_cache_free()` with another cache than the object's (`cache_from_obj`).
    case wrongCache = "wrong_cache"
    /// `free_pages()` with another order than the allocation's ("Bad page state").
    case wrongOrder = "wrong_order"
    /// A GFP_KERNEL allocation inside an atomic section (`might_alloc`).
    case sleepInAtomic = "sleep_in_atomic"

    /// The report that shows this fault was caught.
    var report: DebugReport.Kind {
        switch self {
        case .doubleFree: return .slab(.doubleFree)
        case .invalidFree, .foreignFree: return .slab(.invalidPointer)
        case .redZone: return .slab(.redZone)
        case .useAfterFree: return .slab(.poison)
        case .wrongCache: return .slab(.wrongCache)
        case .wrongOrder: return .badPage
        case .sleepInAtomic: return .sleepInAtomic
        }
    }

    /// The cache check without which the kernel would not notice (nil: caught regardless of
    /// the cache's flags), and the flag that gives it, for the "missed" explanation.
    var needs: (check: SlabDebugChecks, flag: String)? {
        switch self {
        case .doubleFree, .invalidFree: return (.freeState, "SLAB_CONSISTENCY_CHECKS")
        case .redZone: return (.redZone, "SLAB_RED_ZONE with SLAB_CONSISTENCY_CHECKS")
        case .useAfterFree: return (.poison, "SLAB_POISON with SLAB_CONSISTENCY_CHECKS")
        case .foreignFree, .wrongCache, .wrongOrder, .sleepInAtomic: return nil
        }
    }

    /// Injected at a slab object (kmalloc up to KMALLOC_MAX_CACHE_SIZE, kmem_cache_alloc).
    var targetsSlabObject: Bool { ![.wrongOrder, .sleepInAtomic].contains(self) }
}
