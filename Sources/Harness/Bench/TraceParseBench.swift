import Foundation

/// The replay's trace parser on lines as a 6.18 kernel prints them (recorded with
/// `numastress trace record`), one line per operation, kinds in the proportions a file
/// workload gives. In memory: the figure is the parser's own cost, without the disk.
enum TraceParseBench {
    static let lines = [
        "              sh-24218   [000] .....  4003.426855: kmalloc: call_site=alloc_bprm+0x45/0x220 ptr=00000000ba539fa5 bytes_req=408 bytes_alloc=512 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false",
        "              sh-24218   [000] .....  4003.426860: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=00000000ba539fa5",
        "              sh-24218   [000] .....  4003.426807: kmem_cache_alloc: call_site=getname_flags.part.0+0x24/0x1f0 ptr=00000000ea1f725c name=names_cache bytes_req=4096 bytes_alloc=4096 gfp_flags=GFP_KERNEL node=-1 accounted=false",
        "              sh-24218   [000] .....  4003.426814: kmem_cache_free: call_site=__fput_deferred+0xb2/0x130 ptr=00000000efe4be20 name=lsm_file_cache",
        "              sh-24218   [000] .....  4003.426858: mm_page_alloc: page=000000006a7a681f pfn=0x146ba8 order=0 migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP",
        "              sh-24218   [000] .....  4003.426993: mm_page_free: page=000000006dcd47bb pfn=0x1bac77 order=0",
        "             tar-24220   [000] d..3.  4006.589924: mm_page_alloc_zone_locked: page=00000000555b2739 pfn=0x223a40 order=2 migratetype=1 percpu_refill=1",
        "            gzip-24221   [000] d..3.  4008.998388: mm_page_pcpu_drain: page=00000000de077701 pfn=0x23a58f order=0 migratetype=0",
    ]

    static func parseCase() -> BenchCase {
        BenchCase(group: "trace", name: "parse one kmem trace line (replay parser)", cpus: 1, reference: nil,
                  note: "1e9 / ns = lines per second") {
            let bytes = lines.map { Array($0.utf8) }
            let box = ParserBox()
            let loop: @Sendable (Int) -> Void = { n in
                var parser = box.parser
                var events = 0
                for i in 0..<n {
                    let b = bytes[i & 7]
                    b.withUnsafeBufferPointer { if case .event = parser.parse($0, number: Int32(truncatingIfNeeded: i)) { events += 1 } }
                }
                box.parser = parser
                box.events = events
            }
            return ([loop], {})
        }
    }

    final class ParserBox: @unchecked Sendable {
        var parser = TraceLineParser()
        var events = 0
    }
}
