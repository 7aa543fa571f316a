# splice.awk - put generated blocks into a Markdown file between markers.
#
#   awk -f tools/splice.awk BLOCKS DOC > NEW_DOC
#
# BLOCKS holds "@@ begin NAME" ... "@@ end NAME" sections (build/examples/chain_rule --blocks,
# gradcheck_custom --blocks, eps_sweep --blocks).
# In DOC, everything between "<!-- begin: NAME -->" and "<!-- end: NAME -->" is replaced by
# the block NAME in a ```text fence. A marker naming no block, or a block no marker names, is
# an error (exit 1), so the doc and the program cannot silently part ways.
FNR == NR {
  if ($1 == "@@" && $2 == "begin") { name = $3; text[name] = ""; inblock = 1; used[name] = 0; next }
  if ($1 == "@@" && $2 == "end") { inblock = 0; next }
  if (inblock) text[name] = text[name] $0 "\n"
  next
}
/^<!-- begin: [A-Za-z0-9_-]+ -->$/ {
  name = $3
  if (!(name in text)) { print "splice: no block named " name " in " ARGV[1] > "/dev/stderr"; bad = 1 }
  print
  printf "```text\n%s```\n", text[name]
  used[name] = 1
  skipping = 1
  next
}
/^<!-- end: [A-Za-z0-9_-]+ -->$/ { skipping = 0; print; next }
!skipping { print }
END {
  for (n in used) if (!used[n]) { print "splice: block " n " is not used in " ARGV[2] > "/dev/stderr"; bad = 1 }
  exit bad
}
