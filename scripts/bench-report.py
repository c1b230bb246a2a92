#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn what samples/ioasid_fd/ioasid-bench printed, and QEMU's trace of
the emulated VT-d, into Markdown tables (results.md), the raw numbers
(raw.tsv, inval.tsv, kmem.tsv) and the data of the plot (scale.dat).

  bench-report.py [--trace trace.log] [--kernel-log kernel.log]
                  [--boot-seconds N] guest.log OUTDIR

The trace is QEMU's "-trace" log with pci_cfg_write and vtd_inv_desc_*
enabled. The guest marks each measured operation by writing
0xb0000000 | id, then 0xe0000000 | id, to config offset 0xf0 of the edu;
every invalidation descriptor QEMU processed between the two belongs to
that operation.
"""
import argparse
import collections
import os
import re
import statistics

PEERS = ["type1", "iommufd", "ioasid"]
OURS = "ioasid"
IOTLB = ("vtd_inv_desc_iotlb_pages", "vtd_inv_desc_iotlb_domain",
         "vtd_inv_desc_iotlb_global", "vtd_inv_desc_iotlb_pasid",
         "vtd_inv_desc_iotlb_pasid_pages")
MARK_RE = re.compile(r"@0xf0 <- 0x([0-9a-f]+)")
MASK_RE = re.compile(r"mask 0x([0-9a-f]+)")


def parse_guest(path):
    recs, kmem, limits, info, notes = [], [], {}, collections.defaultdict(list), []
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "R" and len(w) == 10:
                recs.append(dict(case=w[1], peer=w[2], rep=int(w[3]), op=w[4],
                                 ns=int(w[5]), pages=int(w[6]), ops=int(w[7]),
                                 calls=int(w[8]), mark=int(w[9])))
            elif w[0] == "K" and len(w) == 8:
                kmem.append(dict(peer=w[1], round=int(w[2]), level=int(w[3]),
                                 mappings=int(w[4]), slab=int(w[5]),
                                 iommu=int(w[6]), free=int(w[7])))
            elif w[0] == "L" and len(w) == 4:
                limits[w[1]] = (int(w[2]), w[3])
            elif w[0] == "I" and len(w) >= 2:
                info[w[1]].append(w[2:])
            elif line.startswith("# ioasid-bench:"):
                notes.append(line.strip())
    return recs, kmem, limits, info, notes


def parse_trace(path):
    """{mark id: Counter of event names (+ 'iotlb_pages_4k')}, stray counts"""
    marks, stray = {}, collections.Counter()
    cur = None
    if not path or not os.path.exists(path):
        return None, stray
    with open(path, errors="replace") as f:
        for line in f:
            ev = line.split(" ", 1)[0]
            if ev == "pci_cfg_write":
                m = MARK_RE.search(line)
                if not m:
                    continue
                val = int(m.group(1), 16)
                kind, mid = val >> 28, val & 0x0fffffff
                if kind == 0xb:
                    cur = marks.setdefault(mid, collections.Counter())
                elif kind == 0xe:
                    cur = None
                continue
            if not ev.startswith("vtd_inv_desc"):
                continue
            c = cur if cur is not None else stray
            c[ev] += 1
            if ev == "vtd_inv_desc_iotlb_pages":
                m = MASK_RE.search(line)
                if m:
                    c["iotlb_pages_4k"] += 1 << int(m.group(1), 16)
    return marks, stray


def iotlb(counter):
    return sum(counter[e] for e in IOTLB)


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return "%d" % round(v)
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(vals):
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    if len(vals) == 1 or min(vals) == max(vals):
        return fmt(med)
    return "%s (%s–%s)" % (fmt(med), fmt(min(vals)), fmt(max(vals)))


def ratio(a, b):
    if not a or not b:
        return "n/a"
    r = statistics.median(a) / statistics.median(b)
    return "%.3f" % r if r < 0.1 else "%.2f" % r


def inv_cell(vals):
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    s = fmt(med)
    if min(vals) != max(vals):
        s += " (%s–%s)" % (fmt(min(vals)), fmt(max(vals)))
    return s


def size_key(case):
    size, backing = case.split(".", 1)
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[size[-1]]
    order = ["4k", "frag", "thp", "hugetlb"]
    return (int(size[:-1]) * mult,
            order.index(backing) if backing in order else 9)


def size_pages(case):
    size = case.split(".", 1)[0]
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[size[-1]]
    return int(size[:-1]) * mult // 4096


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("guest")
    ap.add_argument("outdir")
    ap.add_argument("--trace")
    ap.add_argument("--kernel-log")
    ap.add_argument("--boot-seconds", type=int)
    a = ap.parse_args()

    recs, kmem, limits, info, notes = parse_guest(a.guest)
    marks, stray = parse_trace(a.trace)

    # Each record: its value and invalidations
    by = collections.defaultdict(list)      # (case, peer, op) -> records
    for r in recs:
        r["inv"] = None
        r["waits"] = None
        if marks is not None and r["mark"] and r["mark"] in marks:
            c = marks[r["mark"]]
            r["inv"] = iotlb(c)
            r["waits"] = c["vtd_inv_desc_wait_sw"] + c["vtd_inv_desc_wait_irq"]
            r["inv_pages"] = c["iotlb_pages_4k"]
            r["cc"] = sum(v for k, v in c.items() if "_cc_" in k)
        by[(r["case"], r["peer"], r["op"])].append(r)

    def vals(case, peer, op, f):
        return [f(r) for r in by.get((case, peer, op), [])]

    def invs(case, peer, op, per="calls"):
        return [r["inv"] / r[per] for r in by.get((case, peer, op), [])
                if r["inv"] is not None]

    per_page = lambda r: r["ns"] / r["pages"]
    per_op = lambda r: r["ns"] / r["ops"]
    per_call_us = lambda r: r["ns"] / r["calls"] / 1000

    first = lambda k, d="?": info[k][0][0] if info.get(k) else d
    batch = first("batch", "no") == "yes"
    out = []
    p = out.append

    p("Machine: this 2-core host, guest under QEMU TCG with %s kB of RAM, "
      "VT-d with caching mode, clocksource %s, THP %s. "
      "Timings are medians with min–max over the repetitions; under TCG "
      "they vary by a third from hour to hour, so only ratios measured in "
      "the same boot mean much. IOTLB invalidations are counted by QEMU "
      "and do not vary." % (
          first("memtotal_kb"), first("clocksource"),
          " ".join(info["thp"][0]) if info.get("thp") else "?"))
    p("")
    p("Repetitions: %s per case, the peers taking turns (type1, iommufd, "
      "ioasid, type1, ...); scale: %s fills per peer, the peers taking "
      "turns, the levels above %s mappings in the last fill only (a fill "
      "to 1M takes minutes), each level sampled %s times per fill, a "
      "sample being %s operations." % (
          first("reps"), first("rounds"), first("shallow"),
          first("cycles"), first("sample")))
    if a.boot_seconds:
        p("The boot with the whole benchmark took %dm%02ds."
          % (a.boot_seconds // 60, a.boot_seconds % 60))
    p("")

    # ---- one buffer in one call
    cases = sorted({r["case"] for r in recs if r["case"][0].isdigit()},
                   key=size_key)
    runs = {w[0]: w[1] for w in info.get("runs", [])}
    ups = {w[0]: w[3] for w in info.get("runs", []) if len(w) > 3}
    anon = {w[0]: w[1] for w in info.get("anonhuge", [])}
    if cases:
        p("### One buffer: MAP, then UNMAP, in one call (ns per 4 KiB page)")
        p("")
        p("| buffer | phys. runs | op | type1 | iommufd | ioasid | "
          "io_uring floor | ioasid/type1 | ioasid/iommufd |")
        p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for c in cases:
            extra = "%s of %s" % (runs.get(c, "?"), size_pages(c))
            if c.endswith(".thp"):
                extra += ", THP %s MiB" % (int(anon.get(c, "0")) // 1024)
            for op in ("map", "unmap"):
                v = {pe: vals(c, pe, op, per_page) for pe in PEERS + ["uring"]}
                p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    c.replace(".", " "), extra, op.upper(),
                    cell(v["type1"]), cell(v["iommufd"]), cell(v["ioasid"]),
                    cell(v["uring"]), ratio(v[OURS], v["type1"]),
                    ratio(v[OURS], v["iommufd"])))
        p("")
        p("\"phys. runs\": physically contiguous runs of the buffer's 4 KiB "
          "pages (from /proc/self/pagemap). \"frag\" is faulted in "
          "backwards, a page of a spacer mapping after each page, so that no "
          "page is physically next to its neighbour (%s). The io_uring floor is "
          "IORING_REGISTER_BUFFERS (pin) and its unregistration (unpin) of "
          "the same memory." % ", ".join(
              "%s: %s pages physically above the one before" % (
                  c.replace(".", " "), ups[c])
              for c in cases if c.endswith(".frag") and c in ups))
        for w in info.get("skipped", []):
            p("")
            p("Skipped: %s (%s)." % (w[0], w[1] if len(w) > 1 else "?"))
        p("")

    # ---- 1024 separate mappings
    if any(r["case"] == "sep" for r in recs):
        peers = PEERS + ["ioasid-batch"]
        p("### 1024 separate 4 KiB mappings, then one UNMAP over all of them")
        p("")
        p("| | type1 | iommufd | ioasid | ioasid, IOASID_BATCH | "
          "ioasid/type1 | ioasid/iommufd | BATCH/ioasid |")
        p("| --- | --- | --- | --- | --- | --- | --- | --- |")
        m = {pe: vals("sep", pe, "map", per_op) for pe in peers}
        u = {pe: vals("sep", pe, "unmap", per_call_us) for pe in peers}
        for label, v in (("MAP, ns per mapping", m),
                         ("UNMAP of the 1024, µs per call", u)):
            b = cell(v["ioasid-batch"]) if batch else "n/a"
            p("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, cell(v["type1"]), cell(v["iommufd"]),
                cell(v["ioasid"]), b, ratio(v[OURS], v["type1"]),
                ratio(v[OURS], v["iommufd"]),
                ratio(v["ioasid-batch"], v[OURS]) if batch else "n/a"))
        p("")
        p("MAP: 1024 calls (BATCH: one call of 1024 MAP operations); UNMAP: "
          "one call over the whole range (BATCH: one call of 1024 UNMAP "
          "operations).%s" % ("" if batch else
                              " This kernel has no IOASID_BATCH "
                              "(IOASID_INFO does not report "
                              "IOASID_CAP_BATCH): n/a."))
        p("")

    # ---- scale
    levels = sorted({int(r["case"].split(".")[1]) for r in recs
                     if r["case"].startswith("scale.")})
    alls = sorted({int(r["case"].split(".")[1]) for r in recs
                   if r["case"].startswith("unmapall.")})
    reached = collections.defaultdict(dict)   # peer -> level -> mappings
    for k in kmem:
        reached[k["peer"]][k["level"]] = k["mappings"]
    if levels:
        p("### Scale: many 4 KiB mappings (ns per MAP or UNMAP call at "
          "each fill level)")
        p("")
        p("| mappings | samples | op | type1 | iommufd | ioasid | "
          "ioasid/type1 | ioasid/iommufd |")
        p("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for lv in levels:
            c = "scale.%d" % lv
            for op in ("map", "unmap"):
                v = {pe: vals(c, pe, op, per_op) for pe in PEERS}
                cells = []
                for pe in PEERS:
                    s = cell(v[pe])
                    got = reached[pe].get(lv)
                    if v[pe] and got is not None and got != lv:
                        s += " (at %d)" % got
                    cells.append(s)
                p("| %d | %d | %s | %s | %s | %s | %s | %s |" % (
                    lv, max(len(x) for x in v.values()), op.upper(), *cells,
                    ratio(v[OURS], v["type1"]),
                    ratio(v[OURS], v["iommufd"])))
        for lv in alls:
            c = "unmapall.%d" % lv
            v = {pe: vals(c, pe, "unmap", per_page) for pe in PEERS}
            p("| %d | %d | one UNMAP of all, ns per mapping | %s | %s | %s "
              "| %s | %s |" % (lv, max(len(x) for x in v.values()),
                               cell(v["type1"]), cell(v["iommufd"]),
                               cell(v["ioasid"]), ratio(v[OURS], v["type1"]),
                               ratio(v[OURS], v["iommufd"])))
        p("")
        for pe, (n, err) in sorted(limits.items()):
            p("%s refused MAP number %d with %s%s." % (
                pe, n + 1, err,
                " (vfio_iommu_type1 dma_entry_limit is %s)"
                % first("type1_dma_entry_limit") if pe == "type1" else ""))
        p("")
        p("Kernel memory per mapping (bytes: slab + IOMMU page tables, "
          "from /proc/meminfo Slab and /proc/vmstat nr_iommu_pages; "
          "median over the fills):")
        p("")
        p("| mappings | type1 | iommufd | ioasid |")
        p("| --- | --- | --- | --- |")
        for lv in levels:
            cells = []
            for pe in PEERS:
                ks = [k for k in kmem if k["peer"] == pe and k["level"] == lv]
                if not ks:
                    cells.append("n/a")
                    continue
                sl = statistics.median(k["slab"] / k["mappings"] for k in ks)
                io = statistics.median(k["iommu"] / k["mappings"] for k in ks)
                cells.append("%d + %d" % (round(sl), round(io)))
            p("| %d | %s | %s | %s |" % (lv, *cells))
        p("")

    # ---- invalidations
    if marks is not None:
        p("### IOTLB invalidations per call (counted by QEMU's VT-d)")
        p("")
        p("| case | op | type1 | iommufd | ioasid | ioasid, IOASID_BATCH |")
        p("| --- | --- | --- | --- | --- | --- |")
        rows = [(c, op) for c in cases for op in ("map", "unmap")]
        rows += [("sep", "map"), ("sep", "unmap")]
        rows += [("scale.%d" % lv, op) for lv in levels
                 for op in ("map", "unmap")]
        rows += [("unmapall.%d" % lv, "unmap") for lv in alls]
        for c, op in rows:
            cells = [inv_cell(invs(c, pe, op)) for pe in PEERS]
            b = inv_cell(invs(c, "ioasid-batch", op)) if c == "sep" else ""
            if c == "sep" and b != "n/a":
                b += " (one call of 1024 %ss)" % op.upper()
            p("| %s | %s | %s | %s |" % (c.replace(".", " "), op.upper(),
                                         " | ".join(cells), b))
        p("")
        p("One call is one ioctl: one MAP or UNMAP of the buffer; for "
          "\"sep\" MAP, each of the 1024 MAPs, and one UNMAP of all 1024; "
          "for scale, one MAP or UNMAP of one 4 KiB page at that fill level; "
          "\"unmapall N\", one UNMAP of all N mappings (type1: of the 65535 "
          "it has). Counted: "
          "vtd_inv_desc_iotlb_{pages,domain,global} (and the PASID "
          "variants) between the guest's markers.")
        if sum(stray.values()):
            p("")
            p("Outside the measurements (setup, teardown): %s." % ", ".join(
                "%s %d" % (k, v) for k, v in sorted(stray.items())))
        p("")
    else:
        p("No QEMU trace: no invalidation counts.")
        p("")

    if notes:
        p("Messages of the benchmark:")
        p("")
        for n in notes:
            p("    " + n)
        p("")

    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write("\n".join(out))
    with open(os.path.join(a.outdir, "raw.tsv"), "w") as f:
        f.write("case\tpeer\trep\top\tns\tpages\tops\tcalls\tmark\t"
                "iotlb_inv\tinv_pages\tqi_waits\tcc_inv\n")
        for r in recs:
            f.write("\t".join(str(r.get(k)) for k in (
                "case", "peer", "rep", "op", "ns", "pages", "ops", "calls",
                "mark", "inv", "inv_pages", "waits", "cc")) + "\n")
    with open(os.path.join(a.outdir, "kmem.tsv"), "w") as f:
        f.write("peer\tround\tlevel\tmappings\tslab_bytes\tiommu_pt_bytes\t"
                "memfree_drop_bytes\n")
        for k in kmem:
            f.write("%s\t%d\t%d\t%d\t%d\t%d\t%d\n" % (
                k["peer"], k["round"], k["level"], k["mappings"], k["slab"],
                k["iommu"], k["free"]))
    if marks is not None:
        with open(os.path.join(a.outdir, "inval.tsv"), "w") as f:
            f.write("mark\tevent\tcount\n")
            for mid in sorted(marks):
                for ev, n in sorted(marks[mid].items()):
                    f.write("%d\t%s\t%d\n" % (mid, ev, n))
    # The plot: per-call cost against the number of mappings
    with open(os.path.join(a.outdir, "scale.dat"), "w") as f:
        f.write("# mappings " + " ".join("%s_map %s_unmap" % (pe, pe)
                                         for pe in PEERS) + "\n")
        for lv in levels:
            c = "scale.%d" % lv
            row = [str(lv)]
            for pe in PEERS:
                for op in ("map", "unmap"):
                    v = vals(c, pe, op, per_op)
                    row.append("%.0f" % statistics.median(v) if v else "?")
            f.write(" ".join(row) + "\n")


if __name__ == "__main__":
    main()
