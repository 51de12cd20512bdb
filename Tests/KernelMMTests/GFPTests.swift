import Testing
@testable import KernelMM

/// GFP masks: bit values of include/linux/gfp_types.h, `%pGg` printing, parsing, GFP_ZONE_BAD.
@Suite struct GFPTests {
    @Test("Composite values are those of gfp_types.h", arguments: [
        (GFP.kernel, UInt32(0xcc0)), (.atomic, 0x820), (.nowait, 0x800), (.noio, 0xc00), (.nofs, 0xc40),
        (.user, 0x100cc0), (.highuser, 0x100cc2), (.highuserMovable, 0x100cca), (.dmaZone, 0x01),
        (.dma32Zone, 0x04), (.kernelAccount, 0x400cc0), (.thisnode, 0x200000),
    ] as [(GFP, UInt32)])
    func values(gfp: GFP, raw: UInt32) { #expect(gfp.rawValue == raw) }

    @Test("%pGg prints the kernel's names, composites first", arguments: [
        ("GFP_KERNEL", "mode:0xcc0(GFP_KERNEL)"),
        ("GFP_ATOMIC", "mode:0x820(GFP_ATOMIC)"),
        ("GFP_NOWAIT", "mode:0x800(GFP_NOWAIT)"),
        ("GFP_KERNEL | __GFP_ZERO", "mode:0xdc0(GFP_KERNEL|__GFP_ZERO)"),
        ("GFP_ATOMIC | __GFP_NOWARN", "mode:0x2820(GFP_ATOMIC|__GFP_NOWARN)"),
        ("GFP_NOFS", "mode:0xc40(GFP_NOFS)"),
        ("GFP_NOIO", "mode:0xc00(GFP_NOIO)"),
        ("GFP_USER", "mode:0x100cc0(GFP_USER)"),
        ("GFP_HIGHUSER_MOVABLE", "mode:0x100cca(GFP_HIGHUSER_MOVABLE)"),
        ("GFP_KERNEL | GFP_DMA", "mode:0xcc1(GFP_KERNEL|GFP_DMA)"),
        ("GFP_KERNEL_ACCOUNT", "mode:0x400cc0(GFP_KERNEL_ACCOUNT)"),
        ("GFP_TRANSHUGE", "mode:0x1c24ca(GFP_TRANSHUGE)"),
        ("GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY", "mode:0x210cc0(GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE)"),
    ])
    func printing(text: String, expected: String) throws {
        #expect(try GFP.parse(text).modeString == expected)
    }

    @Test("An empty mask prints none; unknown leftover bits print as hex")
    func edges() {
        #expect(GFP().flagNames == "none")
        #expect(GFP(rawValue: 0x200).flagNames == "0x200")
    }

    @Test("Invalid masks are refused with a reason", arguments: [
        "__GFP_DMA | __GFP_DMA32", "GFP_DMA | __GFP_HIGHMEM", "GFP_KERNEL | __GFP_NOFAIL | __GFP_NORETRY",
        "GFP_ATOMIC | __GFP_NOFAIL", "GFP_KERNAL", "", "GFP_KERNEL |", "0x200",
    ])
    func invalid(text: String) {
        #expect(throws: GFPError.self) { try GFP.parse(text) }
    }

    @Test("A misspelt flag gets a suggestion")
    func suggestion() {
        do { _ = try GFP.parse("GFP_ATOMC"); Issue.record("parsed") } catch let e as GFPError {
            #expect(e.message.contains("unknown GFP flag GFP_ATOMC"))
        } catch { Issue.record("\(error)") }
        do { _ = try GFP.parse("__GFP_ZER0 | ZERO"); Issue.record("parsed") } catch let e as GFPError {
            #expect(e.message.contains("unknown GFP flag"))
        } catch { Issue.record("\(error)") }
    }

    @Test("gfp_zone(): the highest zone a mask may use")
    func zones() {
        #expect(ZoneType.highest(for: .kernel) == .normal)
        #expect(ZoneType.highest(for: [.kernel, .dma]) == .dma)
        #expect(ZoneType.highest(for: [.kernel, .dma32]) == .dma32)
        #expect(ZoneType.highest(for: .highuserMovable) == .normal)
    }

    @Test("GFP classes: atomic uses reserves, nowait does not, blocking may sleep")
    func classes() {
        #expect(GFPClass(.atomic) == .atomic)
        #expect(GFPClass(.nowait) == .nowait)
        #expect(GFPClass(.kernel) == .blocking)
        #expect(GFPClass(.noio) == .blocking)
    }
}
