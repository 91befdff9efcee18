"""The frozen build's definition (packaging/): what can be checked without building it.

``make dist`` builds and smoke-tests the real thing (minutes, outside ``make test``); these tests
hold the pieces it relies on: the spec's name and version, the Qt modules it keeps, the rules that
drop files, the ICU data rebuild, the smoke script, the desktop entry, and resource lookup in a
frozen program.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import auditlens
from auditlens.core import resources

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The spec's names, as a plain Python run defines them (no PyInstaller build)."""
    return runpy.run_path(str(PACKAGING / "auditlens.spec"), run_name="spec_under_test")


@pytest.fixture(scope="module")
def icu_data() -> ModuleType:
    loader = importlib.util.spec_from_file_location("icu_data", PACKAGING / "icu_data.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def test_spec_names_the_build_from_pyproject(spec: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (spec["NAME"], spec["VERSION"]) == (project["name"], project["version"])
    # The frozen program prints auditlens.__version__; the archive is named after pyproject's.
    assert spec["VERSION"] == auditlens.__version__


def test_every_qt_module_the_app_imports_is_kept(spec: dict[str, Any]) -> None:
    imported = set()
    for source in (ROOT / "app" / "auditlens").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            imported |= {n.split(".")[1] for n in names if n.startswith("PySide6.")}
    assert imported, "the GUI imports Qt modules: the scan found none"
    assert imported <= set(spec["QT_MODULES_USED"])
    excluded = spec["unused_qt_modules"]()
    assert not {f"PySide6.{name}" for name in spec["QT_MODULES_USED"]} & set(excluded)
    assert "PySide6.QtNetwork" in excluded


@pytest.mark.parametrize(
    "place",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/lib/libQt6Core.so.6",
        "pyarrow/libarrow.so.2600",
        "pyarrow/libarrow_python.so.2600",
        "pyarrow/libparquet.so.2600",  # auditlens export --format parquet
        "resources/profiles/otel-semconv.toml",
        "matplotlib/mpl-data/matplotlibrc",  # matplotlib does not import without it
        "matplotlib/mpl-data/fonts/ttf/LICENSE_DEJAVU",
        "pyarrow-26.0.1.dist-info/METADATA",  # the version the journal and the report name
        "pyarrow-26.0.1.dist-info/licenses/LICENSE.txt",
        "pyside6_essentials-6.11.3.dist-info/entry_points.txt",
    ],
)
def test_files_the_program_needs_are_kept(spec: dict[str, Any], place: str) -> None:
    assert spec["kept"](place)


@pytest.mark.parametrize(
    "place",
    [
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "pyarrow/libarrow_flight.so.2600",
        "pyarrow/libarrow_python.so",
        "pyarrow/libarrow_python.so.2600.1.0",
        "pyarrow/libarrow_dataset.so.2600",
        "matplotlib/mpl-data/sample_data/goog.npz",
        "matplotlib/mpl-data/images/home.svg",
        "matplotlib/mpl-data/fonts/afm/phvr8a.afm",
        "matplotlib/mpl-data/fonts/ttf/STIXGeneral.ttf",
        "matplotlib/mpl-data/fonts/ttf/cmr10.ttf",
        "matplotlib/mpl-data/fonts/ttf/DejaVuSerif.ttf",
        "matplotlib/mpl-data/fonts/ttf/DejaVuSans-Oblique.ttf",
        "matplotlib/mpl-data/fonts/ttf/DejaVuSansMono-Bold.ttf",
        "pyside6_essentials-6.11.3.dist-info/RECORD",
    ],
)
def test_files_it_never_uses_are_dropped(spec: dict[str, Any], place: str) -> None:
    assert not spec["kept"](place)


def test_a_library_only_a_dropped_file_needed_goes_with_it(spec: dict[str, Any]) -> None:
    links = {
        "/s/libqvnc.so": {"libQt6Network.so.6", "libQt6Gui.so.6"},
        "/s/libQt6Network.so.6": {"libgssapi_krb5.so.2"},
        "/s/libgssapi_krb5.so.2": set(),
        "/s/libqxcb.so": {"libQt6Gui.so.6"},
        "/s/libQt6Gui.so.6": set(),
        "/s/libQt6DBus.so.6": set(),  # opened by name: nothing links to it
    }
    toc = [
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "/s/libqvnc.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Network.so.6", "/s/libQt6Network.so.6", "BINARY"),
        ("libgssapi_krb5.so.2", "/s/libgssapi_krb5.so.2", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/s/libQt6Gui.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6DBus.so.6", "/s/libQt6DBus.so.6", "BINARY"),
    ]
    kept = spec["without_dropped"](toc, lambda path: links[str(path)])
    assert [dest for dest, _, _ in kept] == [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6DBus.so.6",
    ]
    links_left = spec["without_broken_links"](
        [
            ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
            ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ],
        {dest for dest, _, _ in kept},
    )
    assert links_left == [("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK")]


def _qt_icu_data() -> Path:
    import PySide6

    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    assert found, "PySide6 ships ICU's data library"
    return found[0]


def test_icu_package_rebuilt_whole_is_the_same_bytes(icu_data: ModuleType) -> None:
    library = _qt_icu_data()
    symbol = f"icudt{library.name.rsplit('.', 1)[-1]}_dat"
    original = icu_data._section(library, symbol)
    header = original[: int.from_bytes(original[:2], "little")]
    contents = icu_data.items(original)
    assert len(contents) > 1000
    assert icu_data.package(header, contents) == original


def test_icu_package_trimmed_keeps_every_other_item_as_it_was(
    icu_data: ModuleType, spec: dict[str, Any]
) -> None:
    library = _qt_icu_data()
    symbol = f"icudt{library.name.rsplit('.', 1)[-1]}_dat"
    original = icu_data.items(icu_data._section(library, symbol))
    data, gone = icu_data.trimmed(
        library, symbol, spec["ICU_DROPPED_ITEMS"], spec["ICU_KEPT_ITEMS"]
    )
    left = icu_data.items(data)
    assert set(left) | set(gone) == set(original) and not set(left) & set(gone)
    assert all(left[name] == original[name] for name in left)
    prefix = next(iter(original)).split("/", 1)[0]
    assert f"{prefix}/ibm-943_P15A-2003.cnv" in gone  # a Shift_JIS converter
    assert {f"{prefix}/lang/de.res", f"{prefix}/de.res", f"{prefix}/coll/de.res"} <= set(gone)
    # What ICU needs to start and what an English workbench uses stay (icu_data.probe loads them).
    assert {
        f"{prefix}/root.res",
        f"{prefix}/res_index.res",
        f"{prefix}/en.res",
        f"{prefix}/en_US.res",
        f"{prefix}/likelySubtags.res",
        f"{prefix}/zoneinfo64.res",
        f"{prefix}/nfkc.nrm",
        f"{prefix}/coll/root.res",
        f"{prefix}/coll/ucadata.icu",
    } <= set(left)
    assert len(data) < len(icu_data._section(library, symbol)) / 5


def test_smoke_script_is_an_executable_bash_script() -> None:
    smoke = PACKAGING / "smoke.sh"
    assert os.access(smoke, os.X_OK)
    assert subprocess.run(["bash", "-n", str(smoke)], check=False).returncode == 0
    assert subprocess.run(["bash", "-n", str(PACKAGING / "release.sh")]).returncode == 0


def test_desktop_entry_starts_the_workbench_with_the_shipped_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(resources.resources_dir() / "auditlens.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[:2] == ["auditlens", "gui"]
    icons = resources.resources_dir() / "icons"
    assert (icons / f"{desktop['Icon']}.svg").is_file()
    assert (icons / f"{desktop['Icon']}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_frozen_program_finds_resources_in_its_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resources_dir() == tmp_path / "resources"
    assert resources.profiles_dir() == tmp_path / "resources" / "profiles"
    assert resources.sample_case_dir() == tmp_path / "resources" / "samples" / "contact-center"


def test_the_workbench_and_the_commands_start_without_matplotlib() -> None:
    # matplotlib (with Pillow and kiwisolver) is the frozen build's costliest import, and only a
    # report draws with it (auditlens.core.report.report imports the charts when it draws them):
    # the first window (README, Packaging) does not wait for it.
    probe = (
        "import sys\n"
        "import auditlens.cli.main, auditlens.gui.app, auditlens.gui.main_window\n"
        "import auditlens.core.report.session, auditlens.gui.report_dialog\n"
        "print(sorted(m for m in ('matplotlib', 'PIL', 'kiwisolver') if m in sys.modules))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert loaded.stdout.strip() == "[]"


def test_the_fonts_the_report_uses_are_kept(spec: dict[str, Any]) -> None:
    from auditlens.core.report import pdf_font

    fonts = {name for chain in pdf_font.CHAINS.values() for name in chain}
    assert fonts == {
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSansMono.ttf",
        "LastResortHE-Regular.ttf",
    }
    shipped = sorted(path.name for path in pdf_font.font_dir().glob("*.ttf"))
    kept = [name for name in shipped if spec["kept"](f"matplotlib/mpl-data/fonts/ttf/{name}")]
    assert set(kept) == fonts  # the charts draw in DejaVu Sans, matplotlib's default
    assert len(shipped) > len(kept)


def test_only_the_agg_backend_of_matplotlib_is_kept(spec: dict[str, Any]) -> None:
    excluded = spec["unused_matplotlib_backends"]()
    assert {
        "matplotlib.backends.backend_qtagg",
        "matplotlib.backends.qt_compat",
        "matplotlib.backends.backend_tkagg",
        "matplotlib.backends._tkagg",
        "matplotlib.backends.backend_pdf",
        "matplotlib.backends.backend_svg",
    } <= set(excluded)
    assert not {f"matplotlib.backends.{name}" for name in spec["MATPLOTLIB_BACKENDS_USED"]} & set(
        excluded
    )


def test_every_library_version_the_program_reads_is_carried(spec: dict[str, Any]) -> None:
    # A frozen program reads a version from the distribution's .dist-info folder, which the build
    # carries only for the names the spec lists: the report's methods and the journal's entries
    # would say a library is "not installed" (or leave it out) otherwise.
    from importlib import metadata

    from auditlens.core.report import report
    from auditlens.core.store import journal

    def installed(name: str) -> bool:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            return False
        return True

    journaled = [
        next(name for name in distributions if installed(name))
        for _, distributions in journal._LIBRARIES
    ]
    asked = set(report.LIBRARIES) | set(journaled)
    assert asked == {"duckdb", "pyarrow", "cryptography", "matplotlib", "PySide6-Essentials"}
    assert asked <= set(spec["DISTRIBUTIONS_ASKED"])
    assert all(installed(name) for name in spec["DISTRIBUTIONS_ASKED"])


@pytest.mark.parametrize(
    ("vendored", "twin"),
    [
        ("libxcb-9065bb12.so.1.1.0", "libxcb.so.1"),
        ("liblzma-de26b416.so.5.8.4", "liblzma.so.5"),
        ("libXau-154567c4.so.6.0.0", "libXau.so.6"),
        ("libzstd-40ad5e7e.so.1.5.7", "libzstd.so.1"),
        ("libscipy_openblas64_-32a4b2a6.so", None),  # no version: no twin
        ("libQt6Core.so.6", None),  # not a wheel's vendored copy
    ],
)
def test_a_vendored_library_is_matched_to_its_soname(
    spec: dict[str, Any], vendored: str, twin: str | None
) -> None:
    assert spec["_soname_twin"](vendored) == twin


def test_a_library_stripped_out_of_page_alignment_is_refused(
    spec: dict[str, Any], tmp_path: Path
) -> None:
    numpy_libs = Path(importlib.util.find_spec("numpy").origin).parent.parent / "numpy.libs"
    openblas = next(numpy_libs.glob("libscipy_openblas*.so"))
    assert spec["_loadable"](openblas)
    # Plain strip (PyInstaller's strip=True) empties the segments patchelf added: glibc refuses
    # the result ("ELF load command address/offset not page-aligned"), and so does the check.
    copy = tmp_path / openblas.name
    copy.write_bytes(openblas.read_bytes())
    subprocess.run(["strip", str(copy)], check=True)
    assert not spec["_loadable"](copy)
