import Testing
import Foundation
@testable import KernelMM

/// SLUB debugging as Linux 6.12 does it (mm/slub.c, lib/slub_kunit.c): slot layout per
/// `calculate_sizes`, `validate_slab_cache` with the self-tests' error counts, the kmalloc red
/// zone by requested size, SLAB_STORE_USER tracks, `slub_debug=` parsing, report layout.
@Suite struct SlabDebugTests {
    static func make(slubDebug: SlubDebugOptions = .off) throws -> (Kernel, SlabAllocator, CPUContext) {
        let k = try TestKernel.make("pack:1 [numa] core:2 pu:1", perNode: 16 << 20)
        let s = try SlabAllocator(kernel: k, slubDebug: slubDebug)
        return (k, s, k.cpus[0])
    }

    // MARK: calculate_sizes

    struct LayoutCase: Sendable, CustomStringConvertible {
        var size: Int, flags: SlabFlags, ctor: Bool
        var fp: Int, inuse: Int, slot: Int, left: Int
        var description: String { "\(size) \(flags) ctor=\(ctor)" }
    }

    @Test("calculate_sizes(): the free pointer sits mid-object unless poison, a ctor, or a red zone on a tiny or orig_size object moves it after inuse",
          arguments: [
            LayoutCase(size: 64, flags: [], ctor: false, fp: 32, inuse: 64, slot: 64, left: 0),
            LayoutCase(size: 64, flags: .poison, ctor: false, fp: 64, inuse: 64, slot: 72, left: 0),
            LayoutCase(size: 64, flags: .redZone, ctor: false, fp: 32, inuse: 72, slot: 88, left: 8),
            LayoutCase(size: 4, flags: .redZone, ctor: false, fp: 8, inuse: 8, slot: 32, left: 8),
            LayoutCase(size: 200, flags: [], ctor: true, fp: 200, inuse: 200, slot: 208, left: 0),
            LayoutCase(size: 32, flags: [.consistencyChecks, .redZone, .poison, .storeUser, .kmalloc], ctor: false,
                       fp: 40, inuse: 40, slot: 136, left: 8),
            LayoutCase(size: 32, flags: [.redZone, .storeUser], ctor: false, fp: 16, inuse: 40, slot: 120, left: 8),
          ])
    func freePointerPlacement(_ c: LayoutCase) throws {
        let l = try SlabLayout(size: c.size, align: 0, flags: c.flags, hasCtor: c.ctor, cpus: 2)
        #expect(l.freePointerOffset == c.fp)
        #expect(l.inuse == c.inuse)
        #expect(l.size == c.slot)
        #expect(l.leftPad == c.left)
        #expect(l.freePointerOutside == (c.fp >= c.inuse))
    }

    @Test("calculate_sizes(): SLAB_STORE_USER puts two 32-byte tracks after the free pointer, then orig_size on kmalloc caches")
    func trackPlacement() throws {
        let l = try SlabLayout(size: 32, align: 0, flags: [.redZone, .poison, .storeUser, .kmalloc], hasCtor: false, cpus: 2)
        #expect(l.trackOffset == 48)            // inuse 40 + free pointer
        #expect(l.origSizeOffset == 48 + 64)
        #expect(l.paddingOffset == 116)
        #expect(l.sizeFromObject == 128)
    }

    // MARK: validate_slab_cache, counted as lib/slub_kunit.c counts

    @Test("slub_kunit test_clobber_zone: an allocated object's right red zone written is 2 errors (report + FIX); the next pass finds none")
    func clobberZone() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "TestSlub_RZ_alloc", size: 64, flags: .redZone)
        let p = try #require(c.alloc(cpu, .kernel))
        p.storeBytes(of: 0x12, toByteOffset: 64, as: UInt8.self)
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("BUG TestSlub_RZ_alloc (Not tainted): Right Redzone overwritten"))
        #expect(k.log.text.contains("FIX TestSlub_RZ_alloc: Restoring Right Redzone"))
        #expect(c.errors(.redZone) == 1)
        #expect(c.validate().errors == 0)
        c.free(cpu, p)
        #expect(c.objectsInUse == 0)
    }

    @Test("slub_kunit test_next_pointer: a flipped free pointer is Freechain corrupt + Wrong object count + FIX (3), then 2 after restoring it, then 0")
    func nextPointer() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "TestSlub_next_ptr_free", size: 64, flags: .poison)
        let p = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, p)
        let fp = p + c.layout.freePointerOffset
        let saved = fp.load(as: UInt64.self)
        fp.storeBytes(of: ~fp.load(as: UInt8.self), as: UInt8.self)
        #expect(c.validate().errors == 3)
        #expect(k.log.text.contains("Freechain corrupt"))
        #expect(k.log.text.contains("Wrong object count. Counter is 0 but counted were \(c.layout.objectsPerSlab - 1)"))
        #expect(k.log.text.contains("FIX TestSlub_next_ptr_free: Object count adjusted"))
        fp.storeBytes(of: saved, as: UInt64.self)
        #expect(c.validate().errors == 2, "the count repaired by the first pass is now wrong the other way")
        #expect(c.validate().errors == 0)
    }

    @Test("slub_kunit test_first_word / test_clobber_50th_byte: a write to a free object is Poison overwritten (2 errors); repaired")
    func poisonWrites() throws {
        let (k, s, cpu) = try Self.make()
        for (name, offset) in [("TestSlub_1th_word_free", 0), ("TestSlub_50th_word_free", 50)] {
            let c = try s.createCache(name: name, size: 64, flags: .poison)
            let p = try #require(c.alloc(cpu, .kernel))
            c.free(cpu, p)
            p.storeBytes(of: offset == 0 ? 0x78 : 0x9a, toByteOffset: offset, as: UInt8.self)
            #expect(c.validate().errors == 2)
            #expect(k.log.text.contains("BUG \(name) ("))
            #expect(k.log.text.contains("Poison overwritten"))
            #expect(c.errors(.poison) == 1)
            #expect(c.validate().errors == 0)
        }
    }

    @Test("check_object(): the last poison byte is checked apart, as End Poison")
    func endPoison() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "end_poison", size: 64, flags: .poison)
        let p = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, p)
        p.storeBytes(of: 0x00, toByteOffset: 63, as: UInt8.self)
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("BUG end_poison (Not tainted): End Poison overwritten"))
        #expect(k.log.text.contains("First byte 0x0 instead of 0xa5"))
        #expect(!k.log.text.contains(": Poison overwritten"))
        #expect(p.load(fromByteOffset: 63, as: UInt8.self) == SlabPoison.end)
    }

    @Test("slub_kunit test_clobber_redzone_free: a free object's red zone written after free is 2 errors; repaired")
    func redzoneAfterFree() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "TestSlub_RZ_free", size: 64, flags: .redZone)
        let p = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, p)
        p.storeBytes(of: 0xab, toByteOffset: 64, as: UInt8.self)
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("Right Redzone overwritten"))
        #expect(k.log.text.contains("First byte 0xab instead of 0xbb"))
        p.storeBytes(of: 0xab, toByteOffset: -1, as: UInt8.self)
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("Left Redzone overwritten"))
        #expect(c.validate().errors == 0)
    }

    @Test("check_object(): a corrupted free pointer outside an allocated object is Freepointer corrupt, zapped to NULL")
    func freePointerOfAllocated() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "fp_alloc", size: 64, flags: [.poison, .storeUser])
        let p = try #require(c.alloc(cpu, .kernel))
        p.storeBytes(of: UInt64(0xdead_beef), toByteOffset: c.layout.freePointerOffset, as: UInt64.self)
        #expect(c.validate().errors == 1)
        #expect(k.log.text.contains("Freepointer corrupt"))
        #expect(p.load(fromByteOffset: c.layout.freePointerOffset, as: UInt64.self) == 0)
        #expect(c.validate().errors == 0)
        c.free(cpu, p)
    }

    @Test("slub_kunit test_kmalloc_redzone_access: kmalloc(18) from kmalloc-32 with U and Z: writes at 18 and 19 are one kmalloc Redzone report + FIX")
    func kmallocRedzone() throws {
        let (k, s, cpu) = try Self.make(slubDebug: try .parse("FZPU"))
        let c = try #require(s.kmallocCache(size: 18, gfp: .kernel))
        #expect(c.name == "kmalloc-32")
        let p = try #require(s.kmalloc(cpu, 18, .kernel))
        #expect(c.origSize(p) == 18)
        #expect(p.load(fromByteOffset: 18, as: UInt8.self) == SlabPoison.redActive, "bytes past the request are red zone")
        p.storeBytes(of: 0xab, toByteOffset: 18, as: UInt8.self)
        p.storeBytes(of: 0xab, toByteOffset: 19, as: UInt8.self)
        let before = c.slabErrors
        #expect(c.validate().errors == 2)
        #expect(c.slabErrors - before == 2)
        let pfn = try #require(k.virtToPFN(p))
        let at = p + 18 - k.pfnToVirt(pfn)
        let range = "\(KmemCache.hex(p + 18))-\(KmemCache.hex(p + 19)) @offset=\(at). First byte 0xab instead of 0xcc"
        #expect(k.log.text.contains("kmalloc Redzone overwritten\n-----------------------------------------------------------------------------\n\n" + range))
        #expect(k.log.text.contains("FIX kmalloc-32: Restoring kmalloc Redzone \(KmemCache.hex(p + 18))-\(KmemCache.hex(p + 19))=0xcc"))
        #expect(c.validate().errors == 0)
        s.kfree(cpu, p)
    }

    @Test("ksize() (6.12 skip_orig_size_check): after ksize the whole object is the caller's, so bytes past the request are no longer red zone")
    func ksizeWidensOrigSize() throws {
        let (_, s, cpu) = try Self.make(slubDebug: try .parse("ZU"))
        let p = try #require(s.kmalloc(cpu, 18, .kernel))
        #expect(s.ksize(p) == 32, "slab_ksize(): the object size with red zones")
        p.storeBytes(of: 0xab, toByteOffset: 19, as: UInt8.self)
        #expect(s.kmallocNormal[2].validate().errors == 0)
        s.kfree(cpu, p)
    }

    @Test("slab_ksize(): s->size without debug, inuse with SLAB_STORE_USER alone, object_size with red zones or poison")
    func ksizeSemantics() throws {
        let (_, s, cpu) = try Self.make()
        let plain = try s.createCache(name: "ks_plain", size: 60)
        let user = try s.createCache(name: "ks_user", size: 60, flags: .storeUser)
        let rz = try s.createCache(name: "ks_rz", size: 60, flags: .redZone)
        for (c, want) in [(plain, 64), (user, 64), (rz, 60)] {
            let p = try #require(c.alloc(cpu, .kernel))
            #expect(s.ksize(p) == want, "\(c.name)")
            c.free(cpu, p)
        }
        #expect(plain.layout.size == 64 && user.layout.inuse == 64)
    }

    @Test("krealloc() (6.12): shrinking in place keeps the block and zeroes its tail with __GFP_ZERO; growing copies ksize() bytes")
    func kreallocInPlace() throws {
        let (_, s, cpu) = try Self.make()
        let p = try #require(s.kmalloc(cpu, 100, .kernel))
        memset(p, 0x55, 128)
        let q = try #require(s.krealloc(cpu, p, 40, GFP.kernel.union(.zero)))
        #expect(q == p)
        #expect(q.load(fromByteOffset: 39, as: UInt8.self) == 0x55)
        #expect(q.load(fromByteOffset: 40, as: UInt8.self) == 0 && q.load(fromByteOffset: 127, as: UInt8.self) == 0)
        let r = try #require(s.krealloc(cpu, q, 300, .kernel))
        #expect(r != q && r.load(fromByteOffset: 39, as: UInt8.self) == 0x55)
        s.kfree(cpu, r)
    }

    // MARK: double free, the kernel's two ways

    @Test("free_consistency_checks(): with F a double free is found on the freelist (on_freelist): Object already free, then FIX … not freed")
    func doubleFreeOnFreelist() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "df_f", size: 48, flags: .consistencyChecks)
        let a = try #require(c.alloc(cpu, .kernel))
        let b = try #require(c.alloc(cpu, .kernel))
        let held = try #require(c.alloc(cpu, .kernel))   // keeps inuse above 0
        c.free(cpu, a)
        c.free(cpu, b)
        let before = c.slabErrors
        c.free(cpu, a)   // not at the head of the freelist: only on_freelist finds it
        #expect(c.errors(.doubleFree) == 1)
        #expect(c.slabErrors - before == 2)
        #expect(k.log.text.contains("BUG df_f (Not tainted): Object already free"))
        #expect(k.log.text.contains("FIX df_f: Object at \(KmemCache.hex(a)) not freed"))
        #expect(c.refusedFrees == 0, "the object is free already: nothing is left allocated")
        c.free(cpu, held)
        #expect(c.objectsInUse == 0)
        #expect(c.validate().errors == 0)
    }

    @Test("set_freepointer() under CONFIG_SLAB_FREELIST_HARDENED: freeing the object that heads the freelist trips BUG_ON(object == fp)")
    func doubleFreeHardened() throws {
        let (k, s, cpu) = try Self.make()
        for flags in [SlabFlags(), .redZone] {
            let c = try s.createCache(name: "df_h\(flags.rawValue)", size: 48, flags: flags)
            let a = try #require(c.alloc(cpu, .kernel))
            let held = try #require(c.alloc(cpu, .kernel))
            c.free(cpu, a)
            c.free(cpu, a)
            #expect(c.errors(.doubleFree) == 1)
            #expect(k.log.text.contains("BUG_ON(object == fp)"))
            let objs = (0..<(2 * c.layout.objectsPerSlab)).compactMap { _ in c.alloc(cpu, .kernel) }
            #expect(Set(objs).count == objs.count, "every object still comes out once")
            objs.forEach { c.free(cpu, $0) }
            c.free(cpu, held)
            #expect(c.objectsInUse == 0)
        }
    }

    // MARK: report layout, taint

    @Test("slab_bug()/print_trailer(): banner, range and FIX lines, Slab and Object lines, hex dumps with the ASCII column at 49; taint B from the second report on")
    func reportLayout() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "layout", size: 32, flags: [.redZone, .poison])
        let p = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, p)
        p.storeBytes(of: 0x41, toByteOffset: 3, as: UInt8.self)
        c.validate()
        let pfn = try #require(k.virtToPFN(p))
        let base = k.pfnToVirt(pfn)
        let h = { (x: UnsafeRawPointer) in String(format: "%016lx", UInt(bitPattern: x)) }
        let w = c.load(pfn)
        let pad8 = String(repeating: " ", count: 49 - 23)   // 8 bytes of hex, then the ASCII column
        let expected = """
            =============================================================================
            BUG layout (Not tainted): Poison overwritten
            -----------------------------------------------------------------------------

            0x\(h(p + 3))-0x\(h(p + 3)) @offset=\(p + 3 - base). First byte 0x41 instead of 0x6b
            FIX layout: Restoring Poison 0x\(h(p + 3))-0x\(h(p + 3))=0x6b
            Slab 0x\(h(k.pfnToPage(pfn))) objects=\(c.layout.objectsPerSlab) used=\(w.inuse) fp=0x\(h(c.object(pfn, w.freelist)!)) flags=0x0(node=0)
            Object 0x\(h(p)) @offset=\(p - base) fp=0x\(h(c.next(p)!))

            Redzone  \(h(p - 8)): bb bb bb bb bb bb bb bb\(pad8)........
            Object   \(h(p)): 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
            Object   \(h(p + 16)): 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
            Redzone  \(h(p + 32)): bb bb bb bb bb bb bb bb\(pad8)........
            Padding  \(h(p + 48)): 5a 5a 5a 5a 5a 5a 5a 5a\(pad8)ZZZZZZZZ
            """
        #expect(k.log.text.contains(expected))
        #expect(k.log.tainted)
        let q = try #require(c.alloc(cpu, .kernel))
        q.storeBytes(of: 0x00, toByteOffset: 32, as: UInt8.self)
        c.validate()
        let taint = "Tainted: G" + String(repeating: " ", count: 4) + "B" + String(repeating: " ", count: 13)
        #expect(k.log.text.contains("BUG layout (\(taint)): Right Redzone overwritten"))
        c.free(cpu, q)
    }

    // MARK: SLAB_STORE_USER

    @Test("set_track()/print_track(): the last alloc and free call site, CPU, pid and age; alloc_traces groups objects in use by call site")
    func storeUser() throws {
        let (k, s, _) = try Self.make()
        let c = try s.createCache(name: "tracked", size: 64, flags: [.storeUser, .poison])
        let cpu0 = k.cpus[0], cpu1 = k.cpus[1]
        cpu0.callSite = SlabCallSite.register("net_rx_action")
        cpu0.pid = 42
        cpu1.callSite = SlabCallSite.register("tcp_sendmsg")
        cpu1.pid = 77
        let a = (0..<3).compactMap { _ in c.alloc(cpu0, .kernel) }
        let b = try #require(c.alloc(cpu1, .kernel))
        let t = try #require(c.track(a[0], alloc: true))
        #expect(SlabCallSite.name(t.addr) == "net_rx_action" && t.cpu == 0 && t.pid == 42)
        #expect(c.track(a[0], alloc: false)?.addr == 0, "never freed")
        let traces = c.traces(alloc: true)
        #expect(traces.map(\.site) == ["net_rx_action", "tcp_sendmsg"])
        #expect(traces.map(\.count) == [3, 1])
        let text = c.tracesText(alloc: true)
        #expect(text.hasPrefix("      3 net_rx_action age="))
        #expect(text.contains(" pid=42 cpus=0\n"))
        c.free(cpu1, b)
        #expect(SlabCallSite.name(try #require(c.track(b, alloc: false)).addr) == "tcp_sendmsg")
        a[1].storeBytes(of: 0xEE, toByteOffset: c.layout.freePointerOffset, as: UInt8.self)
        c.validate()
        #expect(k.log.text.contains("Allocated in net_rx_action age="))
        #expect(k.log.text.contains(" cpu=0 pid=42\n"))
        a.forEach { c.free(cpu0, $0) }
    }

    // MARK: slub_debug=

    @Test("setup_slub_debug()/kmem_cache_flags(): blocks per cache list, '*' prefixes, '-' for none, a bare option is FZPU")
    func slubDebugParsing() throws {
        #expect(try SlubDebugOptions.parse("") == .full)
        let o = try SlubDebugOptions.parse("FZ,kmalloc-32,obj*;P")
        let f = { (name: String) in o.flags(for: name, size: 64, align: 0, base: [], hasCtor: false, cpus: 2) }
        #expect(f("kmalloc-32") == [.consistencyChecks, .redZone])
        #expect(f("objects") == [.consistencyChecks, .redZone])
        #expect(f("kmalloc-64") == .poison)
        #expect(f("kmalloc-3") == .poison, "without '*' the whole name must match")
        let only = try SlubDebugOptions.parse(",dentry")
        #expect(only.flags(for: "dentry", size: 64, align: 0, base: [], hasCtor: false, cpus: 2) == .debugDefault)
        #expect(only.flags(for: "inode", size: 64, align: 0, base: [], hasCtor: false, cpus: 2) == [])
        #expect(try SlubDebugOptions.parse("FZ-") == .off)
        #expect(throws: SlubDebugOptions.ParseError.self) { try SlubDebugOptions.parse("FQ") }
        #expect(throws: SlubDebugOptions.ParseError.self) { try SlubDebugOptions.parse("A") }
    }

    @Test("slub_debug=O: metadata flags are dropped where they would raise the order one object needs (do_kmem_cache_create)")
    func slubDebugO() throws {
        let o = try SlubDebugOptions.parse("FZPUO")
        #expect(o.flags(for: "big", size: 4096, align: 0, base: [], hasCtor: false, cpus: 2) == .consistencyChecks)
        #expect(o.flags(for: "small", size: 64, align: 0, base: [], hasCtor: false, cpus: 2) == .debugDefault)
    }

    // MARK: what validation finds that allocation-time checks miss

    @Test("Without F, allocation does not check a free object: a write after free is found only by validate_slab_cache()")
    func validationFindsWhatAllocMisses() throws {
        let (k, s, cpu) = try Self.make(slubDebug: try .parse("ZP,victim"))
        let c = try s.createCache(name: "victim", size: 128)
        let objs = (0..<4).compactMap { _ in c.alloc(cpu, .kernel) }
        objs.forEach { c.free(cpu, $0) }
        objs[0].storeBytes(of: 0x00, toByteOffset: 40, as: UInt8.self)   // write after free, deepest on the freelist
        let again = (0..<2).compactMap { _ in c.alloc(cpu, .kernel) }
        #expect(c.slabErrors == 0, "alloc_debug_processing checks objects only with SLAB_CONSISTENCY_CHECKS")
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("BUG victim (Not tainted): Poison overwritten"))
        again.forEach { c.free(cpu, $0) }
        #expect(c.validate().errors == 0)
    }

    @Test("Debug caches have no CPU slab: every slab is on a node list, so validation sees objects freed from any CPU")
    func debugCachesUseNodeLists() throws {
        let (k, s, _) = try Self.make()
        let c = try s.createCache(name: "shared", size: 256, flags: [.redZone, .storeUser])
        let n = c.layout.objectsPerSlab
        let objs = (0..<(2 * n)).compactMap { _ in c.alloc(k.cpus[0], .kernel) }
        #expect(c.slabs == 2)
        objs.forEach { c.free(k.cpus[1], $0) }
        #expect(c.validate() == KmemCache.Validation(slabs: 2, errors: 0))
        #expect(c.objectsInUse == 0)
        #expect(s.checkSlabs(expectEmpty: true).isEmpty)
    }

    @Test("Debug caches under load: two CPUs allocate and free each other's objects while a third thread validates; no false reports, everything back")
    func validateConcurrently() throws {
        let k = try TestKernel.make("pack:2 [numa] core:1 pu:1", perNode: 32 << 20)
        let s = try SlabAllocator(kernel: k, slubDebug: try .parse("FZPU"))
        let c = try s.createCache(name: "busy", size: 96)
        let boxes = [Mailbox<UnsafeMutableRawPointer>(), Mailbox<UnsafeMutableRawPointer>()]
        let done = Counter()
        let passes = Counter()
        Threads.run(3) { i in
            if i == 2 {
                while done.value < 2 { c.validate(); passes.add(); usleep(500) }
                return
            }
            let cpu = k.cpus[i]
            for round in 0..<1500 {
                if let p = c.alloc(cpu, .kernel) { round % 2 == 0 ? boxes[1 - i].put(p) : c.free(cpu, p) }
                if let q = boxes[i].take() { c.free(cpu, q) }
            }
            done.add()
        }
        for i in 0..<2 { while let q = boxes[i].take() { c.free(k.cpus[i], q) } }
        #expect(passes.value > 0)
        #expect(c.slabErrors == 0)
        #expect(c.validate().errors == 0)
        #expect(c.objectsInUse == 0)
        #expect(s.checkSlabs(expectEmpty: true).isEmpty)
    }

    @Test("free_slab() under SLAB_CONSISTENCY_CHECKS: an empty slab's free objects are checked before its pages go back")
    func checkedOnDiscard() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "discarded", size: 512, flags: [.consistencyChecks, .poison])
        let p = try #require(c.alloc(cpu, .kernel))
        c.free(cpu, p)
        p.storeBytes(of: 0x01, toByteOffset: 100, as: UInt8.self)
        #expect(c.shrink(cpu) > 0)
        #expect(c.errors(.poison) == 1)
        #expect(k.log.text.contains("BUG discarded (Not tainted): Poison overwritten"))
        #expect(c.slabs == 0)
    }

    @Test("withSlabHeld: a double free and a write after free made while the slab is held meet the debug checks, not a racing CPU")
    func slabHeldForMisuse() throws {
        let (k, s, cpu) = try Self.make(slubDebug: try .parse("FZPU"))
        let c = try s.createCache(name: "held", size: 64)
        let keep = try #require(c.alloc(cpu, .kernel))
        let a = try #require(c.alloc(cpu, .kernel))
        #expect(c.withSlabHeld(cpu, a) {
            c.free(cpu, a)
            c.free(cpu, a)
        })
        #expect(c.errors(.doubleFree) == 1)
        let b = try #require(c.alloc(cpu, .kernel))
        #expect(c.withSlabHeld(cpu, b) {
            c.free(cpu, b)
            b.storeBytes(of: 0, toByteOffset: 20, as: UInt8.self)
        })
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("BUG held (Tainted: "))
        c.free(cpu, keep)
        #expect(c.objectsInUse == 0)
        let plain = try s.createCache(name: "plain_held", size: 64, flags: [])
        let p = try #require(s.kmalloc(cpu, 64, .kernel))
        #expect(!plain.withSlabHeld(cpu, p) {}, "another cache's object")
        s.kfree(cpu, p)
    }

    @Test("slab_pad_check(): with SLAB_POISON the bytes after the last slot hold 0x5a; a write there is Padding overwritten + FIX (2 errors)")
    func slabPadding() throws {
        let (k, s, cpu) = try Self.make()
        let c = try s.createCache(name: "padded", size: 96, flags: .poison)
        let slab = KernelMM.PAGE_SIZE << c.layout.order
        #expect(slab % c.layout.size != 0)
        let p = try #require(c.alloc(cpu, .kernel))
        let pfn = try #require(k.virtToPFN(p))
        let tail = k.pfnToVirt(pfn) + slab - 1
        tail.storeBytes(of: 0x00, as: UInt8.self)
        #expect(c.validate().errors == 2)
        #expect(k.log.text.contains("Padding overwritten. \(KmemCache.hex(tail))-\(KmemCache.hex(tail)) @offset=\(slab - 1)"))
        #expect(k.log.text.contains("FIX padded: Restoring slab padding"))
        #expect(c.validate().errors == 0)
        c.free(cpu, p)
    }

    @Test("trace() (slub_debug=T): one TRACE line per allocation and free, the object dumped on free")
    func traceLines() throws {
        let (k, s, cpu) = try Self.make(slubDebug: try .parse("T,traced"))
        let c = try s.createCache(name: "traced", size: 16)
        let p = try #require(c.alloc(cpu, .kernel))
        #expect(k.log.text.contains("TRACE traced alloc \(KmemCache.hex(p)) inuse=1 fp="))
        c.free(cpu, p)
        #expect(k.log.text.contains("TRACE traced free \(KmemCache.hex(p)) inuse=1 fp="))
        #expect(k.log.text.contains("Object \(String(format: "%016lx", UInt(bitPattern: p))): "))
        #expect(k.log.count(.slabError) == 0)
    }
}
