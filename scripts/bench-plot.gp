# SPDX-License-Identifier: GPL-2.0
#
# The cost of one MAP (and one UNMAP) of a 4 KiB page against the number
# of mappings already there, for the three peers.
#   gnuplot -e "dir='DIR'" bench-plot.gp   (reads DIR/scale.dat, writes
#                                           DIR/scale.png)

set terminal pngcairo size 1200,500 font ",10" noenhanced
set output dir . "/scale.png"
set datafile missing "?"
set logscale x 2
set logscale y 10
set xlabel "mappings in the address space"
set ylabel "ns per call (median)"
set grid
set key top left
set format x "%.0b%B"
set format y "%.0s%c"
set multiplot layout 1,2 title "One MAP / UNMAP of a 4 KiB page, QEMU TCG guest (lower is better)"
set title "MAP"
plot dir . "/scale.dat" using 1:2 with linespoints title "VFIO type1 v2", \
     "" using 1:4 with linespoints title "iommufd", \
     "" using 1:6 with linespoints title "/dev/ioasid"
set title "UNMAP"
plot dir . "/scale.dat" using 1:3 with linespoints title "VFIO type1 v2", \
     "" using 1:5 with linespoints title "iommufd", \
     "" using 1:7 with linespoints title "/dev/ioasid"
unset multiplot
