import CArch

/// `READ_ONCE(page->flags)` / `WRITE_ONCE()` and the same for the allocation order: the two
/// page fields that a CPU reads on pages it does not own. Compaction's migrate scanner
/// (`isolate_migratepages_block()`) and the pageblock steal count (`find_suitable_fallback()`'s
/// movable-page census) look at every page of a block while the pages' owners allocate and
/// free them; the kernel tolerates the stale value and rechecks under the owner's lock, and so
/// does the model. Every writer stores these fields through here, so a lockless reader sees a
/// whole value and the concurrency checkers see no data race.
extension UnsafeMutablePointer where Pointee == Page {
    @inline(__always) private var flagsWord: UnsafeMutablePointer<UInt16> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<Page>.offset(of: \Page.flags)!).assumingMemoryBound(to: UInt16.self)
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
}
