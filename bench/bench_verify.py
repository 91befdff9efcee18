"""Benchmark: ``auditlens verify`` against ``sha256sum`` over the same sealed bundle.

docs/architecture.md §8 sets the target: verifying a sealed bundle takes at most 3x the time
``sha256sum`` takes over the same files. This script, in one run:

1. builds (or reuses from ``--workdir``) a sealed sample of ``--records`` records: the synthetic
   raw evidence of ``auditlens sample --days 1``, then ONE directory bundle sealed over all of
   that raw evidence with the sample's throwaway key, plus the sample trust store. One big bundle
   keeps the comparison clean: no per-bundle start-up, no archive decompression;
2. reads every file of the bundle once (untimed) so both contenders start from the page cache;
3. times ``RUNS`` rounds of ``auditlens verify BUNDLE --trust TRUSTSTORE --json`` and of
   ``sha256sum`` over exactly the files under the bundle folder (and, for information only,
   ``openssl dgst -sha256`` over the same files), each as a subprocess, measuring
   wall time, user+sys CPU of the process and its waited-for descendants (``os.wait4``), the peak
   RSS of its largest single process (``ru_maxrss``) and the peak of the summed RSS of its process
   tree (``/proc/<pid>/status`` ``VmRSS`` sampled every 50 ms);
4. prints the medians and PASS/FAIL against the targets; writes them to
   ``WORKDIR/result-n<records>.json``.

Every verify run must end with verdict ``verified`` and the expected record count, otherwise
the timing is meaningless and the script stops (exit 2). Exit 1 when a target is missed, 0 when
all are met. MB means 10^6 bytes throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORKDIR = REPO / "bench" / "out"
RUNS = 3
SAMPLE_EVERY_S = 0.05
MB = 1_000_000

# Targets (docs/architecture.md §8 and the benchmark brief).
TARGET_RATIO = 3.0  # verify wall time / sha256sum wall time over the same files
TARGET_RSS_MB = 500.0  # summed RSS of the verify process tree
TARGET_CPU_PER_WALL = 1.3  # above 1 means more than one core worked

SEED = 7
STREAM_ID = "bench.all"
SEALED_AT = "2026-03-03T00:05:00Z"  # fixed, so a rebuilt bundle is byte-identical
READY = "ready.json"
BUSY_LOAD = 0.5  # 1-minute load average above which other work skews the wall times


class BenchError(Exception):
    """The benchmark cannot produce meaningful figures."""


# -- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The sealed bundle under test."""

    records: int
    bundle: Path
    truststore: Path
    files: list[Path]
    bytes: int


def auditlens_command() -> list[str]:
    """The ``auditlens`` entry point of the interpreter running this script."""
    script = Path(sys.executable).parent / "auditlens"
    if not script.is_file():
        raise BenchError(f"{script} not found: run `make setup` first")
    return [str(script)]


def bundle_files(bundle: Path) -> list[Path]:
    """Every regular file under the bundle folder, in a stable order."""
    return sorted(p for p in bundle.rglob("*") if p.is_file())


def _generate_sample(sample: Path, records: int) -> None:
    # build_sample writes truststore.json last: its presence marks a complete sample.
    if (sample / "truststore.json").is_file():
        log(f"reusing sample {sample}")
        return
    shutil.rmtree(sample, ignore_errors=True)
    log(f"generating {records:,} records with `auditlens sample` into {sample} ...")
    started = time.perf_counter()
    subprocess.run(
        [
            *auditlens_command(),
            "sample",
            "--out",
            str(sample),
            "--records",
            str(records),
            "--days",
            "1",
            "--seed",
            str(SEED),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(f"  done in {time.perf_counter() - started:.1f} s")


def _seal_one_bundle(sample: Path, bundle: Path, records: int) -> None:
    """Seal all raw evidence of the sample into one directory bundle with the sample key."""
    from auditlens.core.bundle.seal import seal
    from auditlens.core.sample.case import sample_signing_key

    raw = sorted(p for p in (sample / "raw").rglob("*") if p.is_file())
    if not raw:
        raise BenchError(f"no raw evidence under {sample / 'raw'}")
    shutil.rmtree(bundle, ignore_errors=True)
    log(f"sealing {len(raw)} raw files into one bundle {bundle} ...")
    started = time.perf_counter()
    job = seal(
        raw,
        sample_signing_key(),
        bundle,
        stream_id=STREAM_ID,
        sealed_at=SEALED_AT,
        source={"platform": "contact-center (synthetic sample)", "export": "bench_verify.py"},
    )
    last = 0.0
    try:
        while True:
            step = next(job)
            now = time.perf_counter()
            if now - last > 10:
                last = now
                log(f"  {step.stage}: {step.done:,} records")
    except StopIteration as stop:
        result = stop.value
    if result.manifest.count != records:
        raise BenchError(f"sealed {result.manifest.count:,} records, expected {records:,}")
    log(f"  done in {time.perf_counter() - started:.1f} s")


def prepare(records: int, workdir: Path, *, keep: bool) -> Dataset:
    """Build the dataset for ``records`` under ``workdir``, or reuse a complete earlier one."""
    root = workdir / f"n{records}"
    bundle = root / "bundle"
    truststore = root / "truststore.json"
    ready = root / READY
    if not ready.is_file():
        sample = root / "sample"
        root.mkdir(parents=True, exist_ok=True)
        _generate_sample(sample, records)
        _seal_one_bundle(sample, bundle, records)
        shutil.copyfile(sample / "truststore.json", truststore)
        files = bundle_files(bundle)
        ready.write_text(
            json.dumps(
                {
                    "records": records,
                    "seed": SEED,
                    "stream_id": STREAM_ID,
                    "files": len(files),
                    "bytes": sum(p.stat().st_size for p in files),
                },
                indent=2,
            )
            + "\n"
        )
        if not keep:
            shutil.rmtree(sample)
    else:
        log(f"reusing sealed bundle {bundle} (delete {root} to rebuild it)")
    files = bundle_files(bundle)
    if not files or not truststore.is_file():
        raise BenchError(f"{root} is incomplete: delete it and run again")
    return Dataset(records, bundle, truststore, files, sum(p.stat().st_size for p in files))


# -- measurement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One measured subprocess run."""

    wall_s: float
    user_s: float
    sys_s: float
    rss_single_max: int  # bytes: the largest peak RSS of any one process of the tree
    rss_tree_peak: int  # bytes: the largest sum of VmRSS over the live tree at a sample
    samples: int
    exit_code: int

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds of the process and its waited-for descendants."""
        return self.user_s + self.sys_s


class TreeSampler(threading.Thread):
    """Samples the summed VmRSS of a process and all its descendants every 50 ms.

    Without ``/proc/<pid>/task/<tid>/children`` (a kernel option) descendants are found from the
    parent pid in ``/proc/<pid>/stat``; each pid's parent is read once and cached, so a sample
    costs one ``listdir`` plus a ``status`` read per process of the tree.
    """

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()
        self._parents: dict[int, int] = {}

    def stop(self) -> None:
        """End sampling and wait for the thread."""
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        while not self._stop_event.is_set():
            total = sum(_vm_rss(pid) for pid in self._tree())
            self.peak = max(self.peak, total)
            self.samples += 1
            self._stop_event.wait(SAMPLE_EVERY_S)

    def _tree(self) -> list[int]:
        live = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        for pid in list(self._parents):
            if pid not in live:
                del self._parents[pid]
        for pid in live - self._parents.keys():
            parent = _parent_pid(pid)
            if parent is not None:
                self._parents[pid] = parent
        children: dict[int, list[int]] = {}
        for pid, parent in self._parents.items():
            children.setdefault(parent, []).append(pid)
        tree, todo = [], [self.root_pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, ()))
        return tree


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields restart after the last ")".
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def _vm_rss(pid: int) -> int:
    """Resident set size in bytes (0 for a process gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(command: Sequence[str], stdout_path: Path) -> Run:
    """Run ``command`` once; its stdout goes to ``stdout_path``.

    ``os.wait4`` reports the child's rusage including every descendant the child itself waited
    for (Linux accumulates it at reaping; the verifier's pool joins its workers), so ``ru_utime``
    and ``ru_stime`` cover the workers, and ``ru_maxrss`` is the maximum over those processes,
    never their sum. The sum comes from :class:`TreeSampler`.
    """
    with stdout_path.open("wb") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            wall = time.perf_counter() - started
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace").strip()
    if stderr:
        log(f"  stderr of {Path(command[0]).name}: {stderr[-2000:]}")
    return Run(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        rss_single_max=usage.ru_maxrss * 1024,  # KiB on Linux
        rss_tree_peak=max(sampler.peak, usage.ru_maxrss * 1024),
        samples=sampler.samples,
        exit_code=proc.returncode,
    )


def check_verified(run: Run, stdout_path: Path, records: int) -> None:
    """Stop unless the verification ended ``verified`` over exactly ``records`` records."""
    text = stdout_path.read_text(encoding="utf-8", errors="replace")
    try:
        report: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BenchError(f"verify printed no JSON (exit {run.exit_code}): {text[:500]}") from exc
    verdict = report.get("verdict")
    bundles = report.get("bundles") or [{}]
    counted = sum(int(b.get("record_count") or 0) for b in bundles)
    if verdict != "verified" or run.exit_code != 0 or counted != records:
        findings = "\n".join(
            f"  {f.get('code')}: {f.get('message')}" for f in report.get("findings", [])[:10]
        )
        raise BenchError(
            f"verify ended {verdict!r} with exit {run.exit_code} over {counted:,} records "
            f"(expected 'verified', 0, {records:,}); the timing would be meaningless. If the "
            f"bundle format changed since the bundle was cached, delete the n{records} folder "
            f"of the workdir to rebuild it.\n{findings}"
        )


def warm_cache(files: Sequence[Path]) -> None:
    """Read every file once so neither contender pays for the first disk read."""
    for path in files:
        with path.open("rb") as handle:
            while handle.read(16 << 20):
                pass


# -- report -----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median (the middle of three runs)."""
    return float(statistics.median(values))


def summarize(
    data: Dataset, verify: list[Run], digest: list[Run], openssl: list[Run]
) -> dict[str, Any]:
    """The figures of the benchmark, from the medians of the runs."""
    v_wall = median([r.wall_s for r in verify])
    v_cpu = median([r.cpu_s for r in verify])
    s_wall = median([r.wall_s for r in digest])
    cpu_per_wall = median([r.cpu_s / r.wall_s for r in verify])
    rss_single = median([r.rss_single_max for r in verify]) / MB
    rss_tree = median([r.rss_tree_peak for r in verify]) / MB
    ratio = v_wall / s_wall
    o_wall = median([r.wall_s for r in openssl]) if openssl else None
    return {
        "records": data.records,
        "bytes": data.bytes,
        "files": len(data.files),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "verify_wall_s": v_wall,
        "verify_cpu_s": v_cpu,
        "verify_records_per_s": data.records / v_wall,
        "verify_mb_per_s": data.bytes / v_wall / MB,
        "verify_cpu_per_wall": cpu_per_wall,
        "verify_rss_single_mb": rss_single,
        "verify_rss_tree_mb": rss_tree,
        "sha256sum_wall_s": s_wall,
        "sha256sum_cpu_s": median([r.cpu_s for r in digest]),
        "sha256sum_mb_per_s": data.bytes / s_wall / MB,
        "ratio_verify_to_sha256sum": ratio,
        "openssl_wall_s": o_wall,
        "openssl_mb_per_s": data.bytes / o_wall / MB if o_wall else None,
        "ratio_verify_to_openssl": v_wall / o_wall if o_wall else None,
        "pass": {
            "ratio": ratio <= TARGET_RATIO,
            "rss": rss_tree <= TARGET_RSS_MB,
            "both_cores": cpu_per_wall > TARGET_CPU_PER_WALL,
        },
        "runs": {
            "verify": [asdict(r) for r in verify],
            "sha256sum": [asdict(r) for r in digest],
            "openssl": [asdict(r) for r in openssl],
        },
    }


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_summary(
    s: dict[str, Any], verify: list[Run], digest: list[Run], openssl: list[Run]
) -> None:
    """The human table of the figures."""
    ok = s["pass"]
    rows = [
        ("records", f"{s['records']:,}"),
        (
            "bytes (all bundle files)",
            f"{s['bytes']:,} ({s['bytes'] / MB:,.1f} MB, {s['files']} files)",
        ),
        ("cores", str(s["cores"])),
        ("verify wall", f"{s['verify_wall_s']:.3f} s  (runs: {_runs(verify)})"),
        ("verify records/s", f"{s['verify_records_per_s']:,.0f}"),
        ("verify MB/s", f"{s['verify_mb_per_s']:,.1f}"),
        ("verify CPU (user+sys)", f"{s['verify_cpu_s']:.3f} s"),
        (
            "verify CPU/wall",
            f"{s['verify_cpu_per_wall']:.2f}  {_mark(ok['both_cores'])} (> {TARGET_CPU_PER_WALL})",
        ),
        ("verify peak RSS, one process", f"{s['verify_rss_single_mb']:,.1f} MB"),
        (
            "verify peak RSS, tree sum",
            f"{s['verify_rss_tree_mb']:,.1f} MB  {_mark(ok['rss'])} (<= {TARGET_RSS_MB:.0f} MB)",
        ),
        ("sha256sum wall", f"{s['sha256sum_wall_s']:.3f} s  (runs: {_runs(digest)})"),
        ("sha256sum MB/s", f"{s['sha256sum_mb_per_s']:,.1f}"),
        (
            "ratio verify/sha256sum",
            f"{s['ratio_verify_to_sha256sum']:.2f}  {_mark(ok['ratio'])} (<= {TARGET_RATIO})",
        ),
    ]
    if openssl:
        rows += [
            ("openssl dgst wall (info)", f"{s['openssl_wall_s']:.3f} s  (runs: {_runs(openssl)})"),
            ("openssl dgst MB/s (info)", f"{s['openssl_mb_per_s']:,.1f}"),
            ("ratio verify/openssl (info)", f"{s['ratio_verify_to_openssl']:.2f}  (no target)"),
        ]
    load = s["load_average_1min"]
    rows.append(("load average, 1 min", f"{load['before']:.2f} before, {load['after']:.2f} after"))
    width = max(len(name) for name, _ in rows)
    print(f"\nverify benchmark: medians of {RUNS} runs, page cache warm, MB = 10^6 bytes")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(f"  {'overall':<{width}}  {_mark(all(ok.values()))}")


def _runs(runs: list[Run]) -> str:
    return ", ".join(f"{r.wall_s:.3f}" for r in runs)


def log(text: str) -> None:
    """Progress and diagnostics go to stderr; the figures go to stdout."""
    print(text, file=sys.stderr, flush=True)


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the bundle")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="cache of generated data and results (default: bench/out/)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the intermediate sample (raw evidence and per-stream bundles) after sealing",
    )
    args = parser.parse_args(argv)
    if args.records < 50:
        parser.error("--records must be at least 50 (the sample generator's minimum)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.resolve()
    if shutil.which("sha256sum") is None:
        log("sha256sum not found (GNU coreutils)")
        return 2
    try:
        data = prepare(args.records, workdir, keep=args.keep)
        log(f"bundle: {data.bundle} ({len(data.files)} files, {data.bytes / MB:,.1f} MB)")
        verify_cmd = [
            *auditlens_command(),
            "verify",
            str(data.bundle),
            "--trust",
            str(data.truststore),
            "--json",
        ]
        digest_cmd = ["sha256sum", "--", *map(str, data.files)]
        # GNU sha256sum may lack the SHA extensions OpenSSL uses; show that baseline too.
        openssl = shutil.which("openssl")
        openssl_cmd = [openssl, "dgst", "-sha256", *map(str, data.files)] if openssl else None
        warm_cache(data.files)
        load_before = os.getloadavg()[0]
        if load_before > BUSY_LOAD:
            log(
                f"warning: 1-minute load average is {load_before:.2f} before timing; other work "
                "on this machine will inflate wall times (CPU times are less affected)"
            )
        verify_runs: list[Run] = []
        digest_runs: list[Run] = []
        openssl_runs: list[Run] = []
        scratch = workdir / f"n{args.records}"
        for number in range(1, RUNS + 1):
            # Alternate the contenders so drift on the machine hits both alike.
            out = scratch / "verify-stdout.json"
            run = measure(verify_cmd, out)
            check_verified(run, out, data.records)
            verify_runs.append(run)
            sums = scratch / "sha256sum-stdout.txt"
            run_sum = measure(digest_cmd, sums)
            if run_sum.exit_code != 0:
                raise BenchError(f"sha256sum failed with exit {run_sum.exit_code}")
            digest_runs.append(run_sum)
            if openssl_cmd is not None:
                run_ssl = measure(openssl_cmd, scratch / "openssl-stdout.txt")
                if run_ssl.exit_code != 0:
                    raise BenchError(f"openssl dgst failed with exit {run_ssl.exit_code}")
                openssl_runs.append(run_ssl)
            log(
                f"round {number}/{RUNS}: verify {run.wall_s:.3f} s, "
                f"sha256sum {run_sum.wall_s:.3f} s"
                + (f", openssl {openssl_runs[-1].wall_s:.3f} s" if openssl_runs else "")
            )
    except (BenchError, subprocess.CalledProcessError) as exc:
        log(f"bench_verify: {exc}")
        return 2
    summary = summarize(data, verify_runs, digest_runs, openssl_runs)
    summary["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    print_summary(summary, verify_runs, digest_runs, openssl_runs)
    result = workdir / f"result-n{args.records}.json"
    result.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"figures written to {result}")
    return 0 if all(summary["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
