#!/usr/bin/env bash
# What `make serve` and `make test` need beyond Python, from Debian: Chromium (the browser tests drive
# /usr/bin/chromium with Playwright) and Node/npm (the site serves MathJax, require.js and the widget
# manager from npm); bubblewrap sandboxes student notebooks when coursework is autograded
# (tools/grading/sandbox.py).  Installs what is missing with apt-get as root or with passwordless sudo;
# otherwise stops at once and prints the one command to run.
#
#   tools/system-deps.sh [chromium] [npm] [bubblewrap]   (no argument: chromium and npm)
#   SYSTEM_DEPS_DRY_RUN=1 tools/system-deps.sh   print the apt-get command instead of running it
#   CHROMIUM=/path/to/chromium                   where Chromium is looked for (default /usr/bin/chromium)
set -euo pipefail

deps=("$@")
[ ${#deps[@]} -gt 0 ] || deps=(chromium npm)
missing=()
for dep in "${deps[@]}"; do
  case "$dep" in
    chromium) [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium) ;;
    npm) command -v npm > /dev/null 2>&1 || missing+=(nodejs npm) ;;
    bubblewrap) command -v bwrap > /dev/null 2>&1 || missing+=(bubblewrap) ;;
    *) echo "tools/system-deps.sh: unknown dependency '$dep' (known: chromium, npm, bubblewrap)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then
  sudo="sudo"
else
  echo "Missing: ${missing[*]}.  Install it once, then run make again:" >&2
  echo "    sudo sh -c '$install'" >&2
  exit 1
fi
if ! command -v apt-get > /dev/null 2>&1; then
  echo "Missing: ${missing[*]}, and this machine has no apt-get: install them with its package manager." >&2
  exit 1
fi
if [ -n "${SYSTEM_DEPS_DRY_RUN:-}" ]; then
  echo "would run: ${sudo:+$sudo }sh -c '$install'"
  exit 0
fi
echo "== installing ${missing[*]} (apt-get)"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
