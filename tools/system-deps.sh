#!/usr/bin/env bash
# Checks (and, as root on Debian, installs) what the machine must provide before the virtual
# environment can be built: Python >= 3.11 with venv, and the shared libraries Qt loads.
# With --test, also the archive tools that tests/core/bundle/test_container_differential.py compares the
# container reader with: GNU tar, bsdtar (libarchive-tools) and unzip; and poppler-utils, whose
# pdftotext, pdffonts, pdfimages and pdfsig read back the PDF reports (tests/core/report).
# Without root it names what is missing and stops; it never guesses.
set -euo pipefail

PYTHON=${PYTHON:-python3}
QT_LIBS=(libgl1 libegl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3)
if [ "${1:-}" = "--test" ]; then
  QT_LIBS+=(tar libarchive-tools unzip poppler-utils)
fi
if [ "${1:-}" = "--xvfb" ]; then
  QT_LIBS+=(xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
            libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0)
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; install Python 3.11 or newer" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "error: $("$PYTHON" --version) is too old; AuditLens needs Python 3.11 or newer" >&2
  exit 1
fi

missing=()
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=("python3-venv")
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${QT_LIBS[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
  done
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "error: missing system packages: ${missing[*]}" >&2
echo "install them as root with: apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
