#!/usr/bin/env bash
# Seals a built folder for the lab: DIST/SHA256SUMS lists the SHA-256 of every file and link in
# DIST/auditlens/; with SIGN_KEY (an Ed25519 private key in PEM, e.g. `auditlens keygen`'s
# signing-key.pem) DIST/SHA256SUMS.sig signs it and DIST/SHA256SUMS.pub.pem is the public half;
# then DIST/auditlens-VERSION-linux-x86_64.tar.gz holds the folder and all of these, and
# DIST/auditlens-VERSION-linux-x86_64.tar.gz.sha256 its own digest.
#
# Usage: packaging/release.sh DIST [SIGN_KEY]. The lab's checks are in the README (Packaging).
set -euo pipefail

dist=$1
key=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
read -r name version < <(python3 -c '
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print(project["name"], project["version"])' "$root/pyproject.toml")
archive="$name-$version-linux-x86_64.tar.gz"

[ -x "$dist/$name/$name" ] || { echo "error: no $dist/$name/$name: build it first" >&2; exit 1; }
cd "$dist"
rm -f SHA256SUMS SHA256SUMS.sig SHA256SUMS.pub.pem "$name"-*-linux-x86_64.tar.gz*

# Links too: sha256sum follows them, so a link pointed elsewhere fails the check unless it finds
# the very same bytes. Sorted bytewise so that the list is the same on every machine.
find "$name" \( -type f -o -type l \) -print0 | LC_ALL=C sort -z | xargs -0 sha256sum > SHA256SUMS
echo "SHA256SUMS: $(wc -l < SHA256SUMS) files of $dist/$name"

sealed=(SHA256SUMS)
if [ -n "$key" ]; then
  if ! openssl pkey -in "$key" -noout -text 2>/dev/null | head -1 | grep -q ED25519; then
    echo "error: $key is not an Ed25519 private key in PEM (auditlens keygen writes one)" >&2
    exit 1
  fi
  openssl pkeyutl -sign -inkey "$key" -rawin -in SHA256SUMS -out SHA256SUMS.sig
  openssl pkey -in "$key" -pubout -out SHA256SUMS.pub.pem
  # The key id as AuditLens names keys: SHA-256 of the public key's SubjectPublicKeyInfo.
  key_id=$(openssl pkey -pubin -in SHA256SUMS.pub.pem -outform DER | sha256sum | cut -d' ' -f1)
  echo "SHA256SUMS.sig: signed by key id $key_id"
  sealed+=(SHA256SUMS.sig SHA256SUMS.pub.pem)
fi

# Owner, group and order fixed, gzip without a time stamp: the archive depends on the files only
# (and their modification times, which PyInstaller sets at build time).
tar --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" "${sealed[@]}" \
  | gzip -n -6 > "$archive"
sha256sum "$archive" > "$archive.sha256"
echo "$dist/$archive: $(du -m "$archive" | cut -f1) MB, folder $(du -sm "$name" | cut -f1) MB"
