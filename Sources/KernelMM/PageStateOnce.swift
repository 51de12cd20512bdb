import CArch

/// `READ_ONCE(page->flags)` / `WRITE_ONCE()` and the same for the allocation order and the
/// reverse-map words: the page fields that a CPU reads on pages it does not own. Compaction's
/// migrate scanner (`isolate_migratepages_block()`) and the pageblock steal count
/// (`find_suitable_fallback()`'s movable-page census) look at every page of a block while the
/// pages' owners allocate and free them, and migration reads a candidate's owner
/// (`folio->mapping`, `folio->index`: here `cacheID` and `privateWord`) before it takes the
/// owner's lock; the kernel tolerates the stale value and rechecks under that lock, and so
/// does the model. Every writer stores these fields through here, so a lockless reader sees a
/// whole value and the concurrency checkers see no data race.
extension UnsafeMutablePointer where Pointee == Page {
    @inline(__always) private var flagsWord: UnsafeMutablePointer<UInt16> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<Page>.offset(of: \Page.flags)!).assumingMemoryBound(to: UInt16.self)
    }
    @inline(__always) private var cacheIDWord: UnsafeMutablePointer<UInt32> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<Page>.offset(of: \Page.cacheID)!).assumingMemoryBound(to: UInt32.self)
    }
    @inline(__always) private var privateWordPointer: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<Page>.offset(of: \Page.privateWord)!).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) private var orderByte: UnsafeMutablePointer<UInt8> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<Page>.offset(of: \Page.order)!).assumingMemoryBound(to: UInt8.self)
    }

    /// The page's flags, read or written as one relaxed atomic access.
    @inline(__always) var flagsOnce: PageFlags {
        get { PageFlags(rawValue: arch_load_relaxed_u16(flagsWord)) }
        nonmutating set { arch_store_relaxed_u16(flagsWord, newValue.rawValue) }
    }

    /// The allocation order of a head page, read or written as one relaxed atomic access.
    @inline(__always) var orderOnce: Int8 {
        get { Int8(bitPattern: arch_load_relaxed_u8(orderByte)) }
        nonmutating set { arch_store_relaxed_u8(orderByte, UInt8(bitPattern: newValue)) }
    }

    /// The slab cache id, or a movable page's address-space ASID, as one relaxed access.
    @inline(__always) var cacheIDOnce: Int32 {
        get { Int32(bitPattern: arch_load_relaxed_u32(cacheIDWord)) }
        nonmutating set { arch_store_relaxed_u32(cacheIDWord, UInt32(bitPattern: newValue)) }
    }

    /// The private word (a movable page's address), as one relaxed access.
    @inline(__always) var privateWordOnce: UInt64 {
        get { arch_load_relaxed_u64(privateWordPointer) }
        nonmutating set { arch_store_relaxed_u64(privateWordPointer, newValue) }
    }
}
