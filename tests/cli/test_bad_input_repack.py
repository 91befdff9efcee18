"""Archives repacked with ordinary tools are read, or named, as such (issue 16 point 9).

``tar -C bundle -czf x.tar.gz .`` names every member ``./manifest.json``; it used to say "no
manifest.json". A ``./`` prefix names the same file for every extractor, so the repacked bundle
verifies as the folder does (bundle-format §2). A bundle packed with its folder
(``tar -czf x.tar.gz bundle``) is not at the container's root: the finding names the folder.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import sample_key

CLI = [sys.executable, "-m", "auditlens.cli.main"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("repack")
    raw = root / "audit.jsonl"
    raw.write_bytes(
        b"".join(
            b'{"timestamp":"2026-03-02T08:00:%02d.000Z","user_id":"agent-042","action":"LOGIN"}\n'
            % i
            for i in range(9)
        )
    )
    key = sample_key("repack-test")
    for _ in seal([raw], key, root / "bundle", checkpoint_every=4):
        pass
    trust = root / "k.pub.pem"
    trust.write_bytes(key.public_pem())
    return root / "bundle", trust


def verify(path: Path, trust: Path) -> tuple[int, dict]:
    done = subprocess.run(
        [*CLI, "verify", str(path), "--trust", str(trust), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("flags", ["-czf", "-cf"], ids=["tar.gz", "tar"])
def test_a_bundle_repacked_with_dot_slash_names_verifies(bundle, tmp_path, flags):
    folder, trust = bundle
    archive = tmp_path / ("x.tar.gz" if "z" in flags else "x.tar")
    subprocess.run(["tar", "-C", str(folder), flags, str(archive), "."], check=True)
    listing = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True)
    assert "./manifest.json" in listing.stdout.split()
    code, report = verify(archive, trust)
    assert (code, report["verdict"]) == (0, "verified"), report["findings"]


def test_a_zip_of_the_folder_contents_verifies(bundle, tmp_path):
    folder, trust = bundle
    archive = tmp_path / "x.zip"
    subprocess.run(
        ["bsdtar", "--format", "zip", "-C", str(folder), "-cf", str(archive), "."], check=True
    )
    code, report = verify(archive, trust)
    assert (code, report["verdict"]) == (0, "verified"), report["findings"]


def test_a_bundle_packed_with_its_folder_names_the_folder(bundle, tmp_path):
    folder, trust = bundle
    archive = tmp_path / "y.tar.gz"
    subprocess.run(["tar", "-C", str(folder.parent), "-czf", str(archive), "bundle"], check=True)
    code, report = verify(archive, trust)
    assert code == 2
    [finding] = report["findings"]
    assert finding["code"] == "MANIFEST_MISSING"
    assert "inside the folder 'bundle'" in finding["message"]
