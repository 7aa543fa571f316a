# newton.gp - the loss per step of gradient descent and Newton-CG (examples/newton.c --plot).
#   gnuplot -e "data='build/newton.dat'; out='docs/img/newton.svg'" docs/tools/newton.gp
set terminal svg size 720,420 font "sans,12"
set output out
set title "Logistic regression on the breast-cancer data: loss against step"
set xlabel "step"
set ylabel "loss (bce + ridge)"
set logscale y
set xrange [0:200]
set key top right
set grid
set datafile missing "-"
plot data using 1:2 with lines lw 2 title "gradient descent (lr 0.5)", \
     data using 1:3 with linespoints lw 2 pt 7 title "Newton-CG on Hessian-vector products"
