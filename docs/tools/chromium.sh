#!/bin/sh
# chromium.sh - Debian's chromium, headless, for the teaching page (tests/check_html.c and
# `make teach-page` both use it, so they load the page the same way).
#
#   sh docs/tools/chromium.sh dom URL              the DOM after the page's scripts ran, then
#                                                  one "console: ..." line per console message
#   sh docs/tools/chromium.sh shot URL PNG [W,H]   a screenshot (default 1400,900)
#
# Exit 127 when chromium is not installed; each run is stopped after 60 s.
command -v chromium >/dev/null 2>&1 || { echo "chromium.sh: chromium is not installed" >&2; exit 127; }
mode=$1 url=$2 png=$3 size=${4:-1400,900}
profile=$(mktemp -d) || exit 1
log="$profile/stderr"
trap 'rm -rf "$profile"' EXIT
set -- --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --enable-logging=stderr --v=0
case $mode in
dom)
  timeout 60 chromium "$@" --dump-dom "$url" 2>"$log"; rc=$?
  sed -n 's/.*:CONSOLE[:(][0-9]*)*\] /console: /p' "$log"
  exit $rc ;;
shot)
  case $png in /*) ;; *) png="$PWD/$png" ;; esac
  rm -f "$png"
  timeout 60 chromium "$@" --hide-scrollbars --window-size="$size" --screenshot="$png" "$url" \
    2>"$log" && [ -s "$png" ] ;;
*)
  echo "usage: $0 dom URL | shot URL PNG [W,H]" >&2; exit 2 ;;
esac
