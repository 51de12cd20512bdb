import CNuma
import CArch
import Foundation

/// A block of real memory for one modelled node (its `memblock` range): a memfd mapped shared,
/// bound with `mbind(MPOL_BIND)` to the host node it maps onto when the host has it. Backing it
/// with a file descriptor lets vmalloc map the same physical pages a second time at another
/// virtual address, as the kernel's vmap area does.
public struct NodeMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let bytes: Int
    /// Host node the pages are bound to, or nil when the memory is plain (not bound).
    public let boundHostNode: Int?
    /// The memfd behind the mapping (-1 for anonymous memory).
    public let fd: Int32
    /// Where the kernel really put the pages, asked right after prefaulting; nil when nothing
    /// was checked (not bound, not prefaulted, or a one-node host where there is no choice).
    public var placement: PagePlacement? = nil

    /// Maps `bytes` (page-rounded), at `address` when given (inside a reservation), and binds
    /// them to `hostNode` if possible. `prefault` touches every page now, so that first-touch
    /// cost does not land in the measured phase.
    public static func map(bytes: Int, hostNode: Int?, prefault: Bool,
                           at address: UnsafeMutableRawPointer? = nil) throws -> NodeMemory {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = (bytes + page - 1) / page * page
        let fd = arch_memfd_create("numastress-node")
        guard fd >= 0 else { throw TopologyError("memfd_create failed: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(size)) == 0 else {
            close(fd)
            throw TopologyError("cannot size node memory to \(size) bytes: \(String(cString: strerror(errno)))")
        }
        var flags = MAP_SHARED | MAP_NORESERVE
        if address != nil { flags |= MAP_FIXED }
        guard let p = mmap(address, size, PROT_READ | PROT_WRITE, flags, fd, 0), p != MAP_FAILED else {
            close(fd)
            throw TopologyError("mmap of \(size) bytes failed: \(String(cString: strerror(errno)))")
        }
        var bound: Int? = nil
        if let node = hostNode, HostBinding.shared.hasNode(osIndex: node), node < 64 {
            var mask: UInt = 1 << UInt(node)
            if mbind(p, UInt(size), Int32(MPOL_BIND), &mask, UInt(UInt.bitWidth), 0) == 0 { bound = node }
        }
        // MADV_POPULATE_WRITE (Linux 5.14): every page faulted in writable by one call, under
        // the binding just set, instead of one trap per page; older kernels refuse it (EINVAL)
        // and get the page-by-page touch.
        if prefault && madvise(p, size, 23 /* MADV_POPULATE_WRITE */) != 0 {
            var off = 0
            while off < size { p.storeBytes(of: 0, toByteOffset: off, as: UInt8.self); off += page }
        }
        var memory = NodeMemory(base: p, bytes: size, boundHostNode: bound, fd: fd)
        if prefault, bound != nil, HostBinding.shared.machine.nodes.count > 1 {
            memory.placement = PagePlacement.query(base: p, bytes: size)
        }
        return memory
    }

    /// The binding check of this arena for the model node named `node` (its OS number), or nil
    /// when nothing was checked.
    public func bindingCheck(node: Int) -> NodeBindingCheck? {
        guard let placement, let host = boundHostNode else { return nil }
        return NodeBindingCheck(node: node, hostNode: host, arenaBytes: bytes, placement: placement)
    }

    /// Reserves address space without memory, for arenas to be mapped into side by side.
    public static func reserve(bytes: Int) throws -> UnsafeMutableRawPointer {
        guard let p = mmap(nil, max(bytes, 1), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              p != MAP_FAILED else {
            throw TopologyError("cannot reserve \(bytes) bytes of address space: \(String(cString: strerror(errno)))")
        }
        return p
    }

    public func unmap() {
        munmap(base, bytes)
        closeDescriptor()
    }

    /// Closes the memfd and leaves the mapping to whoever unmaps the reservation it sits in:
    /// unmapping arenas one by one would hand each range back to the process while the rest
    /// of the reservation still stands, and a later munmap of the whole reservation could then
    /// tear down a mapping another thread had placed there meanwhile.
    public func closeDescriptor() {
        if fd >= 0 { close(fd) }
    }

    /// Host NUMA node of the page at `offset`, asked of the kernel (`move_pages` query mode);
    /// nil when unknown (page not yet faulted, or no NUMA support).
    public func hostNode(ofPageAt offset: Int) -> Int? {
        var page: UnsafeMutableRawPointer? = base + offset
        var status: Int32 = -1
        let r = withUnsafeMutablePointer(to: &page) { pp in
            numa_move_pages(0, 1, pp, nil, &status, 0)
        }
        return r == 0 && status >= 0 ? Int(status) : nil
    }
}
