import Foundation

/// The kmalloc family (mm/slab_common.c, mm/slub.c): size classes over kmalloc caches, DMA
/// classes for GFP_DMA, and requests above KMALLOC_MAX_CACHE_SIZE served by whole pages
/// (`kmalloc_large`); `kfree` finds out which from the page.
extension SlabAllocator {
    /// `ZERO_SIZE_PTR`: what kmalloc(0) returns; kfree and ksize accept it.
    @inlinable public static var zeroSizePointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 16)! }

    /// `kmalloc_index()`: size class of a request of 1…8192 bytes.
    /// An if-chain like the kernel's `__kmalloc_index()`, so that a constant size folds away.
    @inlinable @inline(__always)
    func kmallocIndex(_ size: Int) -> Int {
        if size <= 8 { return 0 }
        if size <= 16 { return 1 }
        if size <= 32 { return 2 }
        if size <= 64 { return 3 }
        if size <= 96 { return 4 }
        if size <= 128 { return 5 }
        if size <= 192 { return 6 }
        return Int.bitWidth - (size - 1).leadingZeroBitCount - 1
    }

    /// The cache `kmalloc(size, gfp)` uses, nil above KMALLOC_MAX_CACHE_SIZE.
    public func kmallocCache(size: Int, gfp: GFP) -> KmemCache? {
        guard size > 0 && size <= Self.kmallocMaxCacheSize else { return nil }
        return (gfp.contains(.dma) ? kmallocDMA : kmallocNormal)[kmallocIndex(size)]
    }

    /// `kmalloc(size, gfp)`.
    @inlinable @inline(__always)
    public func kmalloc(_ cpu: CPUContext, _ size: Int, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        if size > 0 && size <= Self.kmallocMaxCacheSize {
            let table = gfp.contains(.dma) ? kmallocDMATable : kmallocTable
            return table[kmallocIndex(size)]._withUnsafeGuaranteedRef { $0.alloc(cpu, gfp, origSize: size) }
        }
        return kmallocSlow(cpu, size, gfp)
    }

    @usableFromInline @inline(never)
    func kmallocSlow(_ cpu: CPUContext, _ size: Int, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        if size == 0 { return Self.zeroSizePointer }
        guard size > 0 else { return nil }
        // kmalloc_large(): a compound page block of the order that covers the size.
        let pages = (size + PAGE_SIZE - 1) / PAGE_SIZE
        let order = Int.bitWidth - (pages - 1).leadingZeroBitCount - (pages == 1 ? Int.bitWidth : 0)
        guard order <= kernel.config.maxOrder else {
            if !gfp.contains(.nowarn) {
                kernel.log.report(.warning, "WARNING: kmalloc_large: size \(size) exceeds MAX_ORDER \(kernel.config.maxOrder)")
            }
            return nil
        }
        return kernel.getFreePages(cpu, gfp.union(.comp), order: max(order, 0))
    }

    /// `kzalloc(size, gfp)`.
    @inlinable public func kzalloc(_ cpu: CPUContext, _ size: Int, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        kmalloc(cpu, size, gfp.union(.zero))
    }

    /// `kcalloc(n, size, gfp)`: nil when n × size overflows.
    public func kcalloc(_ cpu: CPUContext, _ n: Int, _ size: Int, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        let (bytes, overflow) = n.multipliedReportingOverflow(by: size)
        guard !overflow, n >= 0, size >= 0 else { return nil }
        return kzalloc(cpu, bytes, gfp)
    }

    /// `kfree(p)`: nil and ZERO_SIZE_PTR are ignored.
    @inlinable @inline(__always)
    public func kfree(_ cpu: CPUContext, _ p: UnsafeMutableRawPointer?) {
        guard let p, p != Self.zeroSizePointer else { return }
        if let pfn = kernel.virtToPFN(p) {
            let page = kernel.pfnToPage(pfn)
            let flags = page.pointee.flags
            if flags.contains(.slab), let cache = page.pointee.slabCache {
                Unmanaged<KmemCache>.fromOpaque(cache)._withUnsafeGuaranteedRef { $0.free(cpu, p) }
                return
            }
            // An object in a later page of a multi-page slab (kmalloc-1k and up): the cache is
            // on the head page, as `virt_to_slab()` finds it through the folio's head.
            if flags.contains(.slabTail), let cache = kernel.pfnToPage(Int(page.pointee.next)).pointee.slabCache {
                Unmanaged<KmemCache>.fromOpaque(cache)._withUnsafeGuaranteedRef { $0.free(cpu, p) }
                return
            }
        }
        kfreeSlow(cpu, p)
    }

    @usableFromInline @inline(never)
    func kfreeSlow(_ cpu: CPUContext, _ p: UnsafeMutableRawPointer) {
        guard let pfn = kernel.virtToPFN(p) else {
            kmallocNormal[0].report(.invalidPointer, "kfree: Invalid object pointer 0x\(String(UInt(bitPattern: p), radix: 16)) (not in the direct map)", obj: p, pfn: nil)
            return
        }
        let page = kernel.pfnToPage(pfn)
        if page.pointee.flags.contains(.slabTail), let cache = cache(id: kernel.pfnToPage(Int(page.pointee.next)).pointee.cacheID) {
            cache.free(cpu, p)
        } else if page.pointee.flags.contains(.head) && UInt(bitPattern: p) % UInt(PAGE_SIZE) == 0 {
            kernel.freePages(cpu, kernel.pageRef(pfn: pfn), order: Int(page.pointee.order))
        } else {
            kmallocNormal[0].report(.invalidPointer, "kfree: Invalid object pointer 0x\(String(UInt(bitPattern: p), radix: 16))", obj: p, pfn: nil)
        }
    }

    /// `ksize(p)` of Linux 6.12 (`__ksize`): for a slab object `slab_ksize()` — the object
    /// size with red zones or poison, the bytes before the tracks with SLAB_STORE_USER, else
    /// the whole slot — after which the caller may use all of it, so a kmalloc object's
    /// recorded request grows to the object size (`skip_orig_size_check`); a large allocation's
    /// whole block; 0 for NULL and ZERO_SIZE_PTR.
    public func ksize(_ p: UnsafeMutableRawPointer?) -> Int {
        guard let p, p != Self.zeroSizePointer, var pfn = kernel.virtToPFN(p) else { return 0 }
        var page = kernel.pfnToPage(pfn)
        if page.pointee.flags.contains(.slabTail) { pfn = Int(page.pointee.next); page = kernel.pfnToPage(pfn) }
        if page.pointee.flags.contains(.slab) {
            guard let c = cache(id: page.pointee.cacheID) else { return 0 }
            if c.checkValidPointer(pfn, p) { c.skipOrigSizeCheck(p) }
            return c.layout.ksize(flags: c.flags)
        }
        if page.pointee.flags.contains(.head) { return PAGE_SIZE << Int(page.pointee.order) }
        return 0
    }

    /// `krealloc(p, size, gfp)` of Linux 6.12: size 0 frees and returns ZERO_SIZE_PTR; while
    /// `ksize(p)` still holds the new size the block stays (its tail zeroed with __GFP_ZERO);
    /// else a new block receives all `ksize(p)` old bytes and the old one is freed.
    public func krealloc(_ cpu: CPUContext, _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP) -> UnsafeMutableRawPointer? {
        if size == 0 { kfree(cpu, p); return Self.zeroSizePointer }
        let old = p == nil || p == Self.zeroSizePointer ? nil : p
        let ks = old.map { ksize($0) } ?? 0
        if let old, ks >= size {
            if gfp.contains(.zero) { memset(old + size, 0, ks - size) }
            return old
        }
        guard let n = kmalloc(cpu, size, gfp) else { return nil }
        if let old {
            memcpy(n, old, ks)
            kfree(cpu, old)
        }
        return n
    }
}
