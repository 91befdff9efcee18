#!/usr/bin/env bash
# The frozen build's smoke test, run by `make dist`: takes the release archive as the lab gets
# it and, from a temporary folder outside the source tree, with an empty environment (only PATH,
# a temporary HOME and LANG), no Python and no virtual environment:
#
#   1. checks the archive's SHA256SUMS (and its signature when there is one), that no file is
#      missing from the list, that the folder is under LIMIT_BYTES and holds no unused Qt
#      module, and that every library in it finds the libraries it links to;
#   2. runs the frozen program: its version, `verify` of the shipped sample, `import` of it into
#      a new case, `export` of the case in each format, a bookmark, `detect` with the shipped
#      rules, the examination report as a PDF signed with a throwaway examiner key (`keygen
#      --examiner`) and as HTML, each with its three matplotlib charts and the version of every
#      library its methods name (as the journal's entries do), `verify` of the signed PDF (exit
#      0) and of an altered copy (exit 1), the workbench on that case rendered offscreen to a
#      PNG (and on an X server, Xvfb, when there is one), a 150,000-record sample imported by
#      spawned worker processes (the frozen program started again), and the pod-log forms (CRI,
#      Docker, kubectl, Fluent Bit's tail, plain and MessagePack files) and OTLP metrics of a
#      small sample imported;
#   3. proves that none of these opened a network connection: each runs in a new network
#      namespace (nothing could leave) under strace, and any AF_INET, AF_INET6 or AF_PACKET
#      socket, connect, bind or send in the trace fails the test. A deliberate connection is
#      made first to show that the detector sees one;
#   4. times the first window (`auditlens gui CASE --time-start`, warm cache, median of 5; as
#      root at real-time priority, so that other work on the machine does not count).
#
# The PNGs, the report's PDF, HTML and pages (report-page-N.png, when pdftoppm is there), the
# traces and a short summary stay in build/smoke/ to be looked at.
# Usage: packaging/smoke.sh dist/auditlens-VERSION-linux-x86_64.tar.gz
set -euo pipefail

# The folder's size limit, the one place it is set (README, Packaging; bench/README.md, "The
# frozen build"). Issue 13 asked for 250 MB; the report's charts (issue 14: matplotlib's Agg
# backend) bring numpy with its OpenBLAS, Pillow and kiwisolver, some 52 MB that no trimming
# found room for, so the limit is the measured folder plus about 1.5%.
LIMIT_BYTES=305000000 # 305 MB (10^6 bytes)
LARGE_RECORDS=150000  # enough for a bundle past the importer's parallel threshold (50,000)
UNUSED_QT='Network|Qml|Quick|WebEngine|WebView|WebChannel|WebSockets|3D|Multimedia|SpatialAudio|Pdf|Charts|Graphs|DataVisualization|Designer|Help|UiTools|Sql|Test|Positioning|Location|Bluetooth|Nfc|Sensors|Serial|TextToSpeech|RemoteObjects|Scxml|StateMachine|HttpServer|Labs|Lottie|ShaderTools|VirtualKeyboard|Concurrent|Xml|PrintSupport|OpenGLWidgets|SvgWidgets|CanvasPainter'

step() { echo "smoke: $*"; }
fail() {
  echo "smoke: FAIL: $*" >&2
  exit 1
}

[ $# -eq 1 ] && [ -f "$1" ] || fail "usage: $0 ARCHIVE (the release .tar.gz)"
archive=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
read -r name version < <(python3 -c '
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print(project["name"], project["version"])' "$root/pyproject.toml")

for tool in strace unshare sha256sum ldd; do
  if ! command -v "$tool" > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace \
        util-linux coreutils libc-bin > /dev/null
    else
      fail "$tool is needed (Debian: apt-get install strace util-linux)"
    fi
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/auditlens-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
case "$work/" in "$root"/*) fail "the temporary folder $work is inside the source tree" ;; esac
keep="$root/build/smoke"
rm -rf "$keep"
mkdir -p "$keep" "$work/home"
cd "$work"

# --- the archive as the lab gets it --------------------------------------------------------------

step "unpacking $(basename "$archive") into $work"
tar -xzf "$archive"
exe="$work/$name/$name"
internal="$work/$name/_internal"
sample="$internal/resources/samples/contact-center"

step "SHA256SUMS: every file as listed, no file unlisted"
sha256sum --quiet --strict -c SHA256SUMS || fail "a file differs from SHA256SUMS"
diff <(find "$name" \( -type f -o -type l \) | LC_ALL=C sort) <(cut -c67- SHA256SUMS) \
  || fail "the folder and SHA256SUMS list different files"
if [ -f SHA256SUMS.sig ]; then
  openssl pkeyutl -verify -pubin -inkey SHA256SUMS.pub.pem -rawin -in SHA256SUMS \
    -sigfile SHA256SUMS.sig > /dev/null || fail "SHA256SUMS.sig does not verify"
  # The control: one digit of the list changed must fail the same check.
  sed '1s/^./x/' SHA256SUMS > "$work/altered"
  openssl pkeyutl -verify -pubin -inkey SHA256SUMS.pub.pem -rawin -in "$work/altered" \
    -sigfile SHA256SUMS.sig > /dev/null 2>&1 && fail "SHA256SUMS.sig verifies an altered list"
  step "SHA256SUMS.sig verifies with SHA256SUMS.pub.pem (key id $(openssl pkey -pubin \
    -in SHA256SUMS.pub.pem -outform DER | sha256sum | cut -c1-16)...), an altered list does not"
fi

bytes=$(du -sb "$name" | cut -f1)
step "size: $((bytes / 1000000)) MB ($(du -sh "$name" | cut -f1)iB by du), limit $((LIMIT_BYTES / 1000000)) MB"
[ "$bytes" -lt "$LIMIT_BYTES" ] || fail "the folder is $bytes bytes, over $LIMIT_BYTES"

step "Qt: only QtCore, QtGui and QtWidgets"
modules=$(cd "$internal/PySide6" && ls Qt*.so | cut -d. -f1 | sort | tr '\n' ' ')
[ "$modules" = "QtCore QtGui QtWidgets " ] || fail "PySide6 modules in the build: $modules"
unused=$(find "$name" -name 'libQt6*' | grep -E "libQt6($UNUSED_QT)" || true)
[ -z "$unused" ] || fail "unused Qt libraries in the build: $unused"

step "libraries: each finds what it links to"
# Libraries PyInstaller leaves to the system on purpose (they must match its graphics drivers
# and display server: PyInstaller.depend.dylib): a desktop has them, a build machine may not.
# The C++ runtime is left to it too (packaging/auditlens.spec says why).
from_the_system='lib(wayland-(client|cursor|egl|server)|GL|EGL|GLX|OpenGL|drm|gbm|vulkan|xcb|xcb-dri[0-9]*|stdc\+\+|gcc_s)\.so'
unresolved=$(find "$name" -type f \( -name '*.so' -o -name '*.so.*' -o -path "$name/$name" \) \
  -exec sh -c 'LD_LIBRARY_PATH="$1" ldd "$2" 2>&1 | sed -n "s|^\s*\(\S*\) => not found|\1 $2|p"' \
  _ "$internal" {} \; | sort -u)
missing=$(echo "$unresolved" | grep -vE "^$from_the_system" || true)
[ -z "$missing" ] || fail "unresolved libraries (name, needed by): $missing"
if [ -n "$unresolved" ]; then
  step "  left to the system and not on this machine: $(echo "$unresolved" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
fi

# --- the program, cut off from the network and traced --------------------------------------------

netns=(unshare --net)
[ "$(id -u)" = 0 ] || netns=(unshare --user --map-root-user --net)
interfaces=$("${netns[@]}" cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ')
[ "$interfaces" = lo ] || fail "the new network namespace has interfaces: $interfaces"

# isolated NAME [VAR=VALUE...] -- COMMAND [ARG...]: COMMAND in a new network namespace (only a
# loopback that is down), an empty environment but VARs, traced into trace.NAME.
isolated() {
  local trace="$work/trace.$1" vars=()
  shift
  while [ "$1" != "--" ]; do
    vars+=("$1")
    shift
  done
  shift
  "${netns[@]}" strace -f -qq -o "$trace" -e trace=%network,execve \
    env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 "${vars[@]}" "$@"
}

# The network calls in a trace: any socket of an Internet or packet family, or an address of
# one passed to connect, bind, sendto or sendmsg. Local (AF_UNIX) and netlink sockets are not.
network_calls() { grep -E '\bAF_(INET6?|PACKET)\b' "$work/trace.$1" || true; }
offline() {
  local calls
  calls=$(network_calls "$1")
  [ -z "$calls" ] || fail "$1 made network calls: $calls"
}

step "detector: a deliberate connection is caught"
for address in 127.0.0.1 ::1; do
  isolated control -- bash -c "exec 3<>/dev/tcp/$address/9" 2> /dev/null \
    && fail "a connection to $address succeeded inside the network namespace"
  [ -n "$(network_calls control)" ] || fail "the detector missed a connect to $address"
done

step "version"
said=$(isolated version -- "$exe" --version)
[ "$said" = "$name $version" ] || fail "--version said '$said', pyproject.toml says $version"
offline version

step "verify the shipped sample ($sample)"
isolated verify -- "$exe" verify "$sample"/bundles/*/* --trust "$sample/truststore.json" \
  > "$keep/verify.txt" || fail "verify exited $? (0 is verified): $(head -3 "$keep/verify.txt")"
grep -q '^verdict: VERIFIED' "$keep/verify.txt" || fail "verify: $(head -1 "$keep/verify.txt")"
offline verify

step "import the sample into a new case"
said=$(isolated import -- "$exe" import "$work/case" "$sample"/bundles/*/* \
  --trust "$sample/truststore.json" | tail -1)
[[ "$said" == "imported 6,000 events from 9 input(s)"* ]] || fail "import said: $said"
offline import

step "export the case: Parquet, CSV, JSON lines"
for format in parquet csv jsonl; do
  said=$(isolated "export-$format" -- "$exe" export "$work/case" --format "$format" \
    --out "$work/events.$format")
  [[ "$said" == "exported 6,000 events to $work/events.$format"* ]] || fail "export said: $said"
  offline "export-$format"
done
[ "$(head -c 4 "$work/events.parquet")$(tail -c 4 "$work/events.parquet")" = PAR1PAR1 ] \
  || fail "events.parquet is not a Parquet file"
[ "$(wc -l < "$work/events.jsonl")" = 6000 ] || fail "events.jsonl does not hold 6,000 lines"

step "bookmark events of the case"
said=$(isolated bookmark -- "$exe" bookmark "$work/case" \
  --filter 'actor_id:sup-004 AND action:(EXPORT OR DOWNLOAD OR ROLE_CHANGE)' --tag smoke \
  --note 'smoke test')
[[ "$said" == "bookmark 1: "*" events tagged smoke"* ]] || fail "bookmark said: $said"
offline bookmark

step "detect: the shipped rules (resources/rules) find the sample's incident"
isolated detect -- "$exe" detect "$work/case" > "$keep/detect.txt" 2> "$keep/detect.stderr" \
  || fail "detect exited $?: $(tail -3 "$keep/detect.stderr")"
for rule in role-self-grant mass-recording-access missing-witness; do
  grep -q " $rule " "$keep/detect.txt" || fail "detect found no $rule: $(head -3 "$keep/detect.txt")"
done
offline detect

step "a throwaway examiner key (keygen --examiner), made by the frozen program"
isolated keygen -- "$exe" keygen --examiner "Smoke Test Examiner (throwaway)" \
  --out "$work/examiner" > /dev/null 2> "$keep/keygen.stderr" || fail "keygen --examiner exited $?"
[ -f "$work/examiner/examiner-key.pem" ] && [ -f "$work/examiner/examiner-cert.pem" ] \
  || fail "keygen --examiner wrote no key and certificate"
offline keygen

step "the report: a signed PDF and an HTML, each with its matplotlib charts"
said=$(isolated report-pdf -- "$exe" report "$work/case" --out "$work/report.pdf" \
  --sign "$work/examiner/examiner-key.pem" 2> "$keep/report-pdf.stderr") \
  || fail "report (PDF) exited: $(tail -3 "$keep/report-pdf.stderr")"
[[ "$said" == "report written to $work/report.pdf"* ]] || fail "report said: $said"
offline report-pdf
said=$(isolated report-html -- "$exe" report "$work/case" --out "$work/report.html" \
  2> "$keep/report-html.stderr") || fail "report (HTML) exited: $(tail -3 "$keep/report-html.stderr")"
[[ "$said" == "report written to $work/report.html"* ]] || fail "report said: $said"
offline report-html
[ "$(head -c 5 "$work/report.pdf")" = "%PDF-" ] || fail "report.pdf is not a PDF"
# The three charts (activity, actor swimlanes, integrity map) are PNG images in each.
charts=$(grep -c 'data:image/png;base64,' "$work/report.html" || true)
[ "$charts" -ge 3 ] || fail "report.html holds $charts PNG images, not the 3 charts"
cp "$work/report.pdf" "$work/report.html" "$keep/"
# The methods name each library's version, which a frozen program reads from the library's
# .dist-info folder (packaging/auditlens.spec, DISTRIBUTIONS_ASKED); so do the journal's entries.
for library in duckdb pyarrow cryptography matplotlib; do
  grep -q "<tr><td>$library</td><td class=\"mono\">[0-9]" "$work/report.html" \
    || fail "report.html names no version of $library: $(grep -o "<tr><td>$library</td>.\{0,40\}" "$work/report.html")"
done
libraries=$(tail -1 "$work/case/journal.jsonl" | grep -o '"libraries":{[^}]*}' || true)
for library in PySide6 cryptography duckdb pyarrow python; do
  [[ "$libraries" == *"\"$library\":\""* ]] \
    || fail "the journal's last entry names no version of $library: $libraries"
done
if command -v pdfinfo > /dev/null; then
  pages=$(pdfinfo "$work/report.pdf" | sed -n 's/^Pages: *//p')
  [ "${pages:-0}" -ge 2 ] || fail "pdfinfo: report.pdf has '${pages:-no}' pages"
  images=$(pdfimages -list "$work/report.pdf" | awk '$3 == "image"' | wc -l)
  [ "$images" -ge 3 ] || fail "report.pdf holds $images images, not the 3 charts"
  text=$(pdftotext "$work/report.pdf" -)
  for heading in "Charts" "Actor swimlanes" "Integrity map"; do
    grep -q "$heading" <<< "$text" || fail "pdftotext: no '$heading' in report.pdf"
  done
  # The page of the charts, rendered as a reader sees it, to be looked at.
  chart_page=$(pdfimages -list "$work/report.pdf" | awk '$3 == "image" {print $1; exit}')
  pdftoppm -f "$chart_page" -l "$chart_page" -r 80 -png "$work/report.pdf" "$keep/report-page"
  step "  $pages pages, $images chart images (PDF), $charts (HTML); page $chart_page rendered to build/smoke/"
fi

step "verify the signed report: exit 0; an altered copy: exit 1"
isolated verify-report -- "$exe" verify "$work/report.pdf" \
  --trust "$work/examiner/examiner-key.pub.pem" > "$keep/verify-report.txt" \
  || fail "verify of the signed report exited $? (0 is verified): $(tail -3 "$keep/verify-report.txt")"
offline verify-report
# One byte of the signed range changed (byte 1000: the first page's objects, before the
# signature's placeholder).
cp "$work/report.pdf" "$work/altered.pdf"
byte=$(dd if="$work/report.pdf" bs=1 skip=1000 count=1 2> /dev/null)
[ "$byte" = X ] && other=Y || other=X
printf '%s' "$other" | dd of="$work/altered.pdf" bs=1 seek=1000 conv=notrunc 2> /dev/null
status=0
isolated verify-altered -- "$exe" verify "$work/altered.pdf" \
  --trust "$work/examiner/examiner-key.pub.pem" > "$keep/verify-altered.txt" || status=$?
[ "$status" = 1 ] || fail "verify of an altered report exited $status, not 1 (tampered)"
offline verify-altered

step "the workbench on the case, offscreen, to a PNG"
isolated gui QT_QPA_PLATFORM=offscreen -- "$exe" gui "$work/case" --tab events \
  --screenshot "$work/main-window.png" 2> "$keep/gui.stderr" || fail "gui: $(cat "$keep/gui.stderr")"
[ "$(head -c 8 "$work/main-window.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  || fail "the screenshot is not a PNG"
cp "$work/main-window.png" "$keep/main-window.png"
offline gui

if command -v Xvfb > /dev/null; then
  # What a desktop runs: the xcb platform plugin and the libraries bundled for it, on a real X
  # server (outside the namespace; the program reaches it through its socket file).
  step "the workbench on an X server (Xvfb), as a desktop runs it"
  Xvfb -displayfd 1 -screen 0 1600x1000x24 -nolisten tcp > "$work/display" 2> /dev/null &
  xvfb=$!
  for _ in $(seq 50); do [ -s "$work/display" ] && break || sleep 0.2; done
  [ -s "$work/display" ] || fail "Xvfb did not start"
  isolated x11 DISPLAY=":$(cat "$work/display")" -- "$exe" gui "$work/case" --tab actors \
    --screenshot "$work/x11-window.png" 2> "$keep/x11.stderr" \
    || fail "gui on X: $(cat "$keep/x11.stderr")"
  kill "$xvfb"
  cp "$work/x11-window.png" "$keep/x11-window.png"
  offline x11
fi

step "a $LARGE_RECORDS-record sample, imported by worker processes"
isolated sample -- "$exe" sample --out "$work/large" --records "$LARGE_RECORDS" --days 1 \
  --seed 11 > /dev/null
offline sample
said=$(isolated workers -- "$exe" import "$work/large-case" "$work/large"/bundles/*/* \
  --trust "$work/large/truststore.json" | tail -1)
[[ "$said" == "imported 150,000 events"* ]] || fail "import said: $said"
grep -q -- '--multiprocessing-fork' "$work/trace.workers" \
  || fail "the import started no worker process"
offline workers

step "pod logs (CRI, Docker, kubectl, Fluent Bit tail, plain, MessagePack) and OTLP metrics"
isolated sample-pods -- "$exe" sample --out "$work/pods" --records 3000 --days 1 --seed 3 \
  --pod-logs --metrics > /dev/null
offline sample-pods
raw="$work/pods/raw"
forms=("$raw"/pods/var/log/pods/*/*/0.log "$raw"/pods/docker/*/*-json.log "$raw"/pods/kubectl/*.log
  "$raw"/pods/fluent-bit/kube.*.log "$raw/pods/fluent-bit/plain.log"
  "$raw/pods/fluent-bit/events.msgpack")
metrics=("$raw"/metrics/*.jsonl)
for file in "${forms[@]}" "${metrics[@]}"; do [ -f "$file" ] || fail "sample wrote no $file"; done
status=0
isolated pods -- "$exe" import "$work/pods-case" "${forms[@]}" "${metrics[@]}" \
  > "$keep/import-pods.txt" 2> "$keep/import-pods.stderr" || status=$?
[ "$status" = 3 ] || fail "import of pod logs exited $status, not 3 (unsealed): $(tail -3 "$keep/import-pods.stderr")"
offline pods
# Each pod-log form holds the audit stream: one event per audit record.
records=$(cat "$raw"/audit/*.jsonl | wc -l)
for file in "${forms[@]}"; do
  grep -qxF "[unsealed] $file: $records events" <(sed 's/,//g' "$keep/import-pods.txt") \
    || fail "$(basename "$file") did not import as $records events: $(grep -F "$file" "$keep/import-pods.txt")"
done
grep -qE "^\[unsealed\] ${metrics[0]}: [1-9][0-9,]* events$" "$keep/import-pods.txt" \
  || fail "no metric data points imported: $(grep -F "${metrics[0]}" "$keep/import-pods.txt")"

cp "$work"/trace.* "$keep/"

# On a shared machine the wall time mostly measures the wait for a core: as root, the timed runs
# get the CPU first (real-time priority for a second; the kernel still keeps 5% for the rest),
# which is what an idle machine gives. The CPU time spent is printed either way.
first=()
[ "$(id -u)" = 0 ] && command -v chrt > /dev/null && first=(chrt --fifo 10)
step "first window, warm cache (one run to warm it, then 5)${first:+, at real-time priority}"
times=()
cpu=()
for run in 0 1 2 3 4 5; do
  said=$("${first[@]}" timeout 120 "${netns[@]}" env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen "$exe" gui "$work/case" --time-start 2> /dev/null)
  [ "$run" = 0 ] && continue
  times+=("$(echo "$said" | sed -n 's/^first window: \([0-9]*\) ms.*/\1/p')")
  cpu+=("$(echo "$said" | sed -n 's/.*(CPU \([0-9]*\) ms)$/\1/p')")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
cpu_median=$(printf '%s\n' "${cpu[@]}" | sort -n | sed -n 3p)

{
  echo "$name $version, $(date -u +%FT%TZ), $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "archive: $(basename "$archive"), $(du -b "$archive" | cut -f1) bytes"
  echo "folder: $bytes bytes ($(du -sh "$work/$name" | cut -f1)iB), $(find "$name" -type f | wc -l) files"
  echo "first window (ms, warm cache${first:+, real-time priority}): ${times[*]}; median $median (target < 1500)"
  echo "  CPU time spent by then (ms): ${cpu[*]}; median $cpu_median"
} | tee "$keep/report.txt"
step "passed; screenshot, traces and report in build/smoke/"
