#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmark tables of the cover letter, from make bench's results.md.

Plain text within 72 columns: medians only (results.md has the min-max),
the time per page next to the IOTLB invalidations QEMU counted.
"""
import re
import sys


def tables(path):
    """{heading: [rows]} for each markdown table, rows as lists of cells."""
    out, heading, rows = {}, None, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("### "):
            heading = line[4:]
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if rows is None:
                rows = []
                out.setdefault(heading, rows)
            if not all(re.fullmatch(r"-+", c) for c in cells):
                rows.append(cells)
        else:
            rows = None
    return out


def median(cell):
    return re.sub(r"\s*\(.*\)", "", cell) or "-"


def find(tabs, prefix):
    for heading, rows in tabs.items():
        if heading and heading.startswith(prefix):
            return rows
    return None


def show(rows, widths):
    for r in rows:
        print("  " + "".join(c.rjust(w) if i else c.ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip())


def main():
    tabs = tables(sys.argv[1])
    one = find(tabs, "One buffer")
    inval = find(tabs, "IOTLB invalidations")
    sep = find(tabs, "1024 separate")
    if not one:
        print("(no benchmark tables in %s)" % sys.argv[1])
        return
    inv = {}
    if inval:
        h = inval[0]
        for r in inval[1:]:
            inv[(r[0], r[1])] = dict(zip(h, r))
    h = one[0]
    print("One MAP, then one UNMAP, of a whole buffer: ns per 4 KiB page, and")
    print("IOTLB invalidations per call (counted by QEMU's VT-d)")
    print()
    rows = [["", "", "ns/page", "", "", "invalidations", "", ""],
            ["buffer", "op", "type1", "iommufd", "ioasid",
             "type1", "iommufd", "ioasid"]]
    for r in one[1:]:
        d = dict(zip(h, r))
        i = inv.get((d["buffer"], d["op"]), {})
        rows.append([d["buffer"], d["op"]] +
                    [median(d.get(p, "")) for p in ("type1", "iommufd", "ioasid")] +
                    [i.get(p, "-") for p in ("type1", "iommufd", "ioasid")])
    show(rows, [12, 6, 8, 8, 8, 9, 8, 8])
    if sep:
        print()
        print("1024 separate 4 KiB MAPs, then one UNMAP of all of them")
        print("(BATCH: one IOASID_BATCH of 1024 MAPs, then of 1024 UNMAPs)")
        print()
        h = sep[0]
        rows = [["", "type1", "iommufd", "ioasid", "BATCH"]]
        for r in sep[1:]:
            d = dict(zip(h, r))
            rows.append([r[0].replace("\u00b5s", "us")] + [median(d.get(p, "")) for p in
                                  ("type1", "iommufd", "ioasid",
                                   "ioasid, IOASID_BATCH")])
        show(rows, [27, 10, 10, 10, 10])


if __name__ == "__main__":
    main()
