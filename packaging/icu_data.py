"""A smaller ICU data library for the frozen build (used by ``auditlens.spec``).

Qt links ICU, and the ICU data library that PySide6 ships (``libicudata.so.73``, 32 MB) holds
every converter, every locale's display names of languages, currencies, units and time zones,
transliterators and the dictionaries that break Thai and CJK text into words. AuditLens shows an
English workbench and asks Qt for none of that (Qt formats numbers and dates from its own
locale tables; text is UTF-8, which ICU converts without data). This module rebuilds the library
with those items left out, the rest byte for byte as shipped.

The library holds one symbol, ``icudt<N>_dat``: an ICU "common data" package. Its layout (ICU's
``udata.cpp`` and ``ucmndata.h``): a header (a 16-bit header size, the magic bytes 0xda 0x27,
then a ``UDataInfo`` naming the format ``CmnD``), then a table of contents: a 32-bit item count
and for each item two 32-bit offsets (name, data) counted from the table's start, sorted by name
because ICU finds items by binary search; then the names, then the items, each 16-byte aligned.
"""

from __future__ import annotations

import fnmatch
import struct
import subprocess
import tempfile
from pathlib import Path

MAGIC = b"\xda\x27"
ALIGN = 16
PAD = b"\xaa"  # what ICU's own tools pad with, so that a package rebuilt whole is the same bytes


def _section(library: Path, symbol: str) -> bytes:
    """The bytes of ``symbol`` in ``library`` (an ELF shared library), read through ``nm``."""
    listing = subprocess.run(
        ["nm", "-D", "-S", "--defined-only", str(library)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == symbol:
            address, size = int(fields[0], 16), int(fields[1], 16)
            break
    else:
        raise ValueError(f"{library} defines no symbol {symbol}")
    # The symbol's address is its file offset in these libraries (one read-only segment at 0,
    # as objdump shows); the package header below checks that the guess was right.
    data = library.read_bytes()[address : address + size]
    if data[2:4] != MAGIC or data[12:16] != b"CmnD":
        raise ValueError(f"{symbol} in {library} is not an ICU common data package")
    return data


def items(package: bytes) -> dict[str, bytes]:
    """The items of an ICU common data package, by name, in table order."""
    header_size = struct.unpack_from("<H", package)[0]
    toc = header_size
    (count,) = struct.unpack_from("<I", package, toc)
    entries = [struct.unpack_from("<II", package, toc + 4 + 8 * i) for i in range(count)]
    starts = [*sorted(data for _, data in entries), len(package) - toc]
    found = {}
    for name_offset, data_offset in entries:
        end = package.index(b"\0", toc + name_offset)
        name = package[toc + name_offset : end].decode("ascii")
        following = starts[starts.index(data_offset) + 1]
        found[name] = package[toc + data_offset : toc + following]
    return found


def package(header: bytes, contents: dict[str, bytes]) -> bytes:
    """An ICU common data package of ``contents`` (names in ICU's order) behind ``header``."""
    names = sorted(contents)  # ICU compares the names as bytes (ASCII)
    table_size = 4 + 8 * len(names)
    name_bytes = b"".join(name.encode("ascii") + b"\0" for name in names)
    offset = table_size + len(name_bytes)
    offset += -offset % ALIGN
    body = bytearray()
    table = bytearray(struct.pack("<I", len(names)))
    name_offset = table_size
    for name in names:
        table += struct.pack("<II", name_offset, offset + len(body))
        name_offset += len(name) + 1
        body += contents[name]
        body += PAD * (-len(body) % ALIGN)
    gap = PAD * (offset - table_size - len(name_bytes))
    return header + bytes(table) + name_bytes + gap + bytes(body)


def trimmed(
    library: Path, symbol: str, dropped: list[str], kept: list[str] = ()
) -> tuple[bytes, list[str]]:
    """The package in ``library`` without some items, and the names of those left out.

    An item goes when its name (after the package's own ``icudtNNl/`` prefix) matches a pattern
    of ``dropped`` and none of ``kept``.
    """
    data = _section(library, symbol)
    header = data[: struct.unpack_from("<H", data)[0]]
    contents = items(data)

    def matches(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name.split("/", 1)[-1], pattern) for pattern in patterns)

    gone = [name for name in contents if matches(name, dropped) and not matches(name, kept)]
    left = {name: item for name, item in contents.items() if name not in gone}
    return package(header, left), gone


def build_library(data: bytes, symbol: str, soname: str, out: Path) -> Path:
    """Link a shared library ``out`` whose only symbol ``symbol`` holds ``data`` (needs gcc)."""
    with tempfile.TemporaryDirectory() as work:
        blob = Path(work) / "data.bin"
        blob.write_bytes(data)
        source = Path(work) / "data.S"
        source.write_text(
            "\t.section .rodata\n"
            f"\t.globl {symbol}\n"
            f"\t.type {symbol}, @object\n"
            f"\t.balign {ALIGN}\n"
            f"{symbol}:\n"
            f'\t.incbin "{blob}"\n'
            f"\t.size {symbol}, . - {symbol}\n"
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["gcc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(out), str(source)],
            check=True,
        )
    return out


_PROBE = """
import ctypes, sys
uc_path, i18n_path, data_path, version = sys.argv[1:5]
uc, i18n = ctypes.CDLL(uc_path), ctypes.CDLL(i18n_path)
if data_path not in open("/proc/self/maps").read():
    sys.exit(f"ICU did not load {data_path}")
def call(library, name, *args):
    error = ctypes.c_int(0)
    result = getattr(library, f"{name}_{version}")(*args, ctypes.byref(error))
    return result, error.value
_, error = call(uc, "u_init")
if error > 0:
    sys.exit(f"u_init failed: error {error}")
for locale in (b"root", b"en", b"en_US", b"de", b"ja"):
    bundle, error = call(uc, "ures_open", None, locale)
    if error > 0:
        sys.exit(f"the locale {locale} did not open: error {error}")
collator, error = call(i18n, "ucol_open", b"en")
if error > 0:
    sys.exit(f"the English collator did not open: error {error}")
_, error = call(uc, "ucnv_open", b"Shift_JIS")
if error <= 0:
    sys.exit("the Shift_JIS converter is still there: the data was not trimmed")
"""


def probe(data_library: Path, icuuc: Path, icui18n: Path, version: str, python: str) -> None:
    """Check a trimmed data library by loading ICU over it in a child process.

    The child (``python``) loads ``icuuc`` and ``icui18n`` with ``data_library`` first on the
    library path, and checks that ICU starts, opens locales and a collator, and lacks a dropped
    converter.

    Raises ``SystemExit`` with ICU's answer otherwise: a broken data library would only show
    when Qt first asks ICU for something, on the investigator's machine.
    """
    import os

    env = {**os.environ, "LD_LIBRARY_PATH": str(data_library.parent)}
    done = subprocess.run(
        [python, "-c", _PROBE, str(icuuc), str(icui18n), str(data_library), version],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the trimmed ICU data fails: {done.stderr.strip() or done.stdout}")
