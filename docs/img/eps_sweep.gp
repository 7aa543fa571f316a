# eps_sweep.gp - the V-shaped error curves of docs/gradcheck.md (make eps-plot).
# usage: gnuplot -e "csv='build/eps_sweep.csv'; out='docs/img/eps_sweep.png'" docs/img/eps_sweep.gp
set terminal pngcairo size 900,600 font ",11"
set output out
set datafile separator ","
set datafile missing "nan"
set logscale xy
set format x "10^{%L}"
set format y "10^{%L}"
set xrange [1e-12:1e-1]
set yrange [1e-13:1e-1]
set xlabel "finite-difference step h"
set ylabel "max |numeric - analytic| over the 31 parameters"
set title "Gradient error vs step h: one sigmoid unit, BCE, breast-cancer data (569 x 30)"
set key bottom left opaque box
set grid
eps = 2.220446049250313e-16
set arrow from sqrt(eps), graph 0 to sqrt(eps), graph 1 nohead dt 2 lc rgb "#1f77b4"
set arrow from eps**(1.0/3), graph 0 to eps**(1.0/3), graph 1 nohead dt 2 lc rgb "#d62728"
set label "sqrt(eps)" at sqrt(eps), graph 0.95 offset 0.5,0 tc rgb "#1f77b4"
set label "cbrt(eps)" at eps**(1.0/3), graph 0.95 offset 0.5,0 tc rgb "#d62728"
plot csv using 1:2 skip 1 with linespoints pt 7 ps 0.8 lc rgb "#1f77b4" title "forward difference (double)", \
     csv using 1:3 skip 1 with linespoints pt 5 ps 0.8 lc rgb "#d62728" title "central difference (double)", \
     csv using 1:4 skip 1 with linespoints pt 9 ps 0.8 lc rgb "#2ca02c" title "central difference (float loss)", \
     2.8e-2*x lc rgb "#888888" dt 3 title "slope 1", \
     3.6e-2*x**2 lc rgb "#555555" dt 3 title "slope 2", \
     1.5e-16/x lc rgb "#aaaaaa" dt 4 title "slope -1 (round-off)"
