/// The debug check of a lock-free zone's buddy tree at a quiescent point (no operation in
/// flight), the counterpart of walking the free lists in `checkPages`: every word well formed
/// (no merging bit over a free half, a used bit exactly where the half holds something, nothing
/// inside a free or taken block marked), no free block past the zone's end, free blocks per
/// order recounted from the tree.
extension AtomicBuddy {
    struct Recount {
        var freePages = 0
        var blocks: [Int]
        var problems: [String] = []
    }

    func recount(meta: UnsafeMutablePointer<Page>) -> Recount {
        var r = Recount(blocks: [Int](repeating: 0, count: maxOrder + 1))
        for k in 0..<roots { visit(maxOrder, k, enclosed: false, meta, &r) }
        return r
    }

    private func visit(_ l: Int, _ k: Int, enclosed: Bool, _ meta: UnsafeMutablePointer<Page>, _ r: inout Recount) {
        let w = load(word(l, k))
        func bad(_ s: String) { if r.problems.count < 20 { r.problems.append("order-\(l) block \(k << l): \(s)") } }
        if enclosed {
            if w != 0 { bad("word \(w) inside a free or taken block") }
            if l > 0 { visit(l - 1, 2 * k, enclosed: true, meta, &r); visit(l - 1, 2 * k + 1, enclosed: true, meta, &r) }
            return
        }
        // A merging bit may outlive its release over a half that is in use: an allocation's
        // climb passed this word (a load, nothing to change) before the release marked it, and
        // the release then stopped lower down at the busy buddy. Claims overwrite it and the
        // next release through the half clears it, so only a merging bit over a free half is
        // wrong (it could let a later climb merge a block that is not free).
        if w & (Self.mergingLeft | Self.mergingLeft >> 1) & ~((w & Self.used) << 2) != 0 {
            bad("merging bit over a free half at a quiescent point (word \(w))")
        }
        if w & Self.taken != 0 {
            if w & Self.busy != Self.busy { bad("taken without both used bits (word \(w))") }
        } else if w & Self.busy == 0 {
            if (k + 1) << l > pages { bad("free block past the zone's end") }
            else if !meta[k << l].flags.isEmpty { bad("free block's first page has flags \(meta[k << l].flags.rawValue)") }
            r.blocks[l] += 1
            r.freePages += 1 << l
        } else if l == 0 {
            bad("order-0 word \(w) with used bits but not taken")
        }
        guard l > 0 else { return }
        let inside = w & Self.taken != 0 || w & Self.busy == 0
        for side in 0...1 {
            let child = load(word(l - 1, 2 * k + side))
            if !inside && (w & Self.usedBit(side) != 0) != (child & Self.busy != 0) {
                bad("\(side == 0 ? "left" : "right") used bit \(w & Self.usedBit(side) != 0) but the half's word is \(child)")
            }
            visit(l - 1, 2 * k + side, enclosed: inside, meta, &r)
        }
    }
}
