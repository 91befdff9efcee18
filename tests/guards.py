"""Reusable guards for two promises of docs/architecture.md §7: evidence is only ever read and the
application makes no network connection (§6).

Plain Python, no pytest, so the same code also runs inside child processes. The fixtures in
``tests/conftest.py`` wrap it; use those in tests.

``EvidenceGuard`` (fixture ``evidence_guard``)
    ``watch(*paths)`` snapshots files and folders (recursively): each file's SHA-256, size,
    permission bits, modification and change time (ns); each folder's listing and times;
    symlinks by their target (never followed). ``changes()`` lists every difference since,
    including anything added inside a watched folder, even a temporary file created and removed
    again (the folder's mtime moves). The fixture asserts ``changes() == []`` at teardown::

        def test_import_keeps_evidence(evidence_guard, cli, tmp_path):
            evidence_guard.watch(evidence_folder, raw_file)
            cli("import", tmp_path / "case", evidence_folder)
            evidence_guard.assert_untouched()   # or leave it to the teardown

``OpenRecorder`` (fixture ``evidence_opens``)
    While installed, records every call that opens a path under its roots, with the mode or the
    ``os.open`` flags, and every call that would rename, remove, create, truncate or re-time
    one: ``builtins.open``, ``io.open``, ``pathlib.Path.open``, ``tarfile``'s own reference to
    ``open``, ``os.open`` and ``os.remove``/``unlink``/``rename``/``replace``/``rmdir``/
    ``mkdir``/``chmod``/``chown``/``utime``/``truncate``/``link``/``symlink``. Nested calls
    (``Path.open`` calling ``io.open``) are recorded once. ``writes`` holds the calls that
    could change the evidence, ``reads`` the read-only opens (assert they are not empty, so the
    test proves the evidence was read through the watched calls at all)::

        with evidence_opens(evidence_folder) as opens:
            cli("verify", bundle)
        assert opens.reads and opens.writes == []

``NetworkGuard`` (fixture ``no_network``)
    While installed, every ``socket.socket.connect``/``connect_ex``/``sendto``,
    ``socket.create_connection``, ``socket.getaddrinfo``, ``gethostbyname``(``_ex``),
    ``gethostbyaddr`` and ``getnameinfo`` raises :class:`NetworkBlockedError` (a
    ``RuntimeError``, so ``except OSError`` in the code under test cannot swallow it) and is
    recorded with its address. The fixture asserts no attempt was made.

Child processes (``run_guarded``, fixture ``guarded``)
    Patches made in the test process do not reach a subprocess, nor ``multiprocessing`` workers
    started with "spawn". ``run_guarded`` starts a command with a generated ``sitecustomize.py``
    first on ``PYTHONPATH``: every Python process started from it, spawned workers included (they
    inherit the environment), installs ``NetworkGuard`` (and ``OpenRecorder`` over the given
    evidence roots) for its whole life and appends what it sees to one JSON-lines log. Each
    process also logs its own start, so a test can prove the workers existed and were guarded.
    ``GuardedRun.log`` holds the parsed log::

        run = guarded([sys.executable, "-m", "auditlens.cli.main", "verify", bundle,
                       "--workers", "2"], evidence=[bundle], env={"QT_QPA_PLATFORM": "offscreen"})
        assert run.log.workers and run.log.network == [] and run.log.writes == []

    The generated ``sitecustomize`` shadows any other one on the path in those processes.

Limits: only Python-level calls are seen. Native code that opens files or sockets itself
(DuckDB's C++ for the case database and for extension downloads, Qt's networking, glibc's name
service) bypasses the patches; the ``EvidenceGuard`` snapshot still catches any change to the
evidence, whoever made it.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import io
import json
import os
import pathlib
import socket
import stat
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENV_LOG = "AUDITLENS_GUARD_LOG"
"""The JSON-lines log every guarded child process appends to."""
ENV_EVIDENCE = "AUDITLENS_GUARD_EVIDENCE"
"""Evidence roots (``os.pathsep``-separated) whose opens guarded child processes record."""
MODULE_NAME = "_auditlens_test_guards"
"""The name this file is loaded under by the generated ``sitecustomize.py``."""

# The originals, taken when this module loads (before any guard patches them): the guards' own
# bookkeeping must neither be recorded nor recurse into a wrapper.
_open = io.open
_os_open = os.open
_os_write = os.write
_os_close = os.close

_HASH_CHUNK = 1 << 20


def _append(log: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append one JSON line to ``log`` in a single ``write`` (O_APPEND: processes don't mix)."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    fd = _os_open(os.fspath(log), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _os_write(fd, line)
    finally:
        _os_close(fd)


class _Patch:
    """One attribute replaced on a module or class, restorable exactly (even when inherited)."""

    def __init__(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        self.owner = owner
        self.name = name
        self.own = name in vars(owner)
        self.saved = vars(owner).get(name)
        self.original = getattr(owner, name)
        setattr(owner, name, make(self.original))

    def undo(self) -> None:
        if self.own:
            setattr(self.owner, self.name, self.saved)
        else:
            delattr(self.owner, self.name)


# --- evidence snapshots -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What a snapshot keeps of one path (``lstat``, never following a symlink)."""

    kind: str  # file, dir, symlink or other
    mode: int  # permission bits
    size: int
    mtime_ns: int
    ctime_ns: int  # moves on any write or metadata change, even if mtime is put back
    sha256: str = ""  # files
    target: str = ""  # symlinks
    names: tuple[str, ...] = ()  # folders: the listing


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with _open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(path: str) -> Entry:
    st = os.lstat(path)
    common = {
        "mode": stat.S_IMODE(st.st_mode),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
    }
    if stat.S_ISLNK(st.st_mode):
        return Entry("symlink", target=os.readlink(path), **common)
    if stat.S_ISDIR(st.st_mode):
        return Entry("dir", names=tuple(sorted(os.listdir(path))), **common)
    if stat.S_ISREG(st.st_mode):
        return Entry("file", sha256=_sha256(path), **common)
    return Entry("other", **common)


def snapshot(root: str | os.PathLike[str]) -> dict[str, Entry]:
    """Every path under ``root`` (itself included), by absolute path; empty if it is gone."""
    top = os.path.abspath(os.fspath(root))
    found: dict[str, Entry] = {}
    pending = [top]
    while pending:
        path = pending.pop()
        try:
            entry = _entry(path)
        except FileNotFoundError:
            continue
        found[path] = entry
        pending.extend(os.path.join(path, name) for name in entry.names)
    return found


def describe_changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """One line per difference between two snapshots, in path order."""
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old is None:
            assert new is not None
            changes.append(f"added {new.kind}: {path}")
        elif new is None:
            changes.append(f"removed {old.kind}: {path}")
        elif old != new:
            differences = []
            for name, was in asdict(old).items():
                now = getattr(new, name)
                if name == "names" and was != now:
                    differences.append(
                        f"listing +{sorted(set(now) - set(was))} -{sorted(set(was) - set(now))}"
                    )
                elif was != now:
                    differences.append(f"{name} {was!r} -> {now!r}")
            changes.append(f"changed {path}: " + "; ".join(differences))
    return changes


class EvidenceGuard:
    """Snapshots evidence paths and reports whatever changed since (see the module docstring)."""

    def __init__(self) -> None:
        self.roots: list[str] = []
        self._before: dict[str, Entry] = {}

    def watch(self, *paths: str | os.PathLike[str]) -> None:
        """Snapshot ``paths`` (files or folders, recursively) now.

        Raises:
            FileNotFoundError: a path does not exist (a guard over nothing proves nothing).
        """
        for path in paths:
            root = os.path.abspath(os.fspath(path))
            if not os.path.lexists(root):
                raise FileNotFoundError(f"no evidence at {root}")
            self.roots.append(root)
            self._before.update(snapshot(root))

    def changes(self) -> list[str]:
        """What differs from the snapshots (empty when the evidence is untouched)."""
        after: dict[str, Entry] = {}
        for root in self.roots:
            after.update(snapshot(root))
        return describe_changes(self._before, after)

    def assert_untouched(self) -> None:
        """Fail, naming every change, if any watched path changed."""
        changes = self.changes()
        assert not changes, "the evidence changed:\n  " + "\n  ".join(changes)


# --- how evidence is opened ---------------------------------------------------------------------

# Flags that can change a file or create one. O_RDONLY is 0, so any of these means "not a read".
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_FLAG_NAMES = [
    name
    for name in (
        "O_WRONLY",
        "O_RDWR",
        "O_APPEND",
        "O_CREAT",
        "O_EXCL",
        "O_TRUNC",
        "O_NOFOLLOW",
        "O_NONBLOCK",
        "O_DIRECTORY",
        "O_CLOEXEC",
        "O_NOATIME",
        "O_PATH",
    )
    if getattr(os, name, 0)
]


def flags_write(flags: int) -> bool:
    """Whether ``os.open`` flags can modify or create the file."""
    return bool(flags & WRITE_FLAGS)


def mode_writes(mode: str) -> bool:
    """Whether an ``open()`` mode can modify or create the file."""
    return any(letter in mode for letter in "wax+")


def describe_flags(flags: int) -> str:
    """``os.open`` flags by name, e.g. ``O_RDONLY|O_NOFOLLOW``."""
    names = [name for name in _FLAG_NAMES if flags & getattr(os, name) == getattr(os, name)]
    if not flags & (os.O_WRONLY | os.O_RDWR):
        names.insert(0, "O_RDONLY")
    return "|".join(names)


@dataclass(frozen=True)
class OpenCall:
    """One call that touched an evidence path."""

    function: str  # e.g. builtins.open, os.open, os.rename
    path: str
    how: str  # the mode or flags of an open; empty for the other calls
    writes: bool
    pid: int


# Calls that change a path without opening it: name -> (argument index, keyword, dir_fd keyword)
# of each path argument that names something they change.
_MUTATORS: dict[str, tuple[tuple[int, str, str], ...]] = {
    "remove": ((0, "path", "dir_fd"),),
    "unlink": ((0, "path", "dir_fd"),),
    "rmdir": ((0, "path", "dir_fd"),),
    "mkdir": ((0, "path", "dir_fd"),),
    "chmod": ((0, "path", "dir_fd"),),
    "chown": ((0, "path", "dir_fd"),),
    "utime": ((0, "path", "dir_fd"),),
    "truncate": ((0, "path", ""),),
    "rename": ((0, "src", "src_dir_fd"), (1, "dst", "dst_dir_fd")),
    "replace": ((0, "src", "src_dir_fd"), (1, "dst", "dst_dir_fd")),
    "link": ((0, "src", "src_dir_fd"), (1, "dst", "dst_dir_fd")),
    "symlink": ((1, "dst", "dir_fd"),),
}


def _candidates(target: Any, dir_fd: int | None) -> tuple[str, ...]:
    """The absolute and the resolved form of a path argument; none for a file descriptor."""
    if isinstance(target, int):
        return ()
    try:
        text = os.fsdecode(os.fspath(target))
    except TypeError:
        return ()
    if dir_fd is not None and not os.path.isabs(text):
        try:
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        except OSError:
            return ()
    return (os.path.abspath(text), os.path.realpath(text))


class OpenRecorder:
    """Records opens (and renames, removals, ...) of paths under ``roots`` while installed.

    Use it as a context manager or call ``install``/``uninstall``; ``log`` additionally appends
    each call to a JSON-lines file (for child processes).
    """

    def __init__(
        self, roots: Iterable[str | os.PathLike[str]], *, log: str | os.PathLike[str] | None = None
    ) -> None:
        forms = set()
        for root in roots:
            text = os.fspath(root)
            forms.update((os.path.abspath(text), os.path.realpath(text)))
        self.roots = tuple(sorted(forms))
        self.calls: list[OpenCall] = []
        self._log = log
        self._patches: list[_Patch] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def writes(self) -> list[OpenCall]:
        """The calls that could modify, create, move or remove evidence."""
        return [call for call in self.calls if call.writes]

    @property
    def reads(self) -> list[OpenCall]:
        """The read-only opens."""
        return [call for call in self.calls if not call.writes]

    def _inside(self, path: str) -> bool:
        return any(
            path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots
        )

    def _note(
        self, function: str, target: Any, how: str, writes: bool, dir_fd: int | None = None
    ) -> None:
        for path in _candidates(target, dir_fd):
            if self._inside(path):
                call = OpenCall(function, path, how, writes, os.getpid())
                with self._lock:
                    self.calls.append(call)
                if self._log is not None:
                    _append(self._log, {"event": "open", **asdict(call)})
                return

    def _outermost(self, note: Callable[[], None], call: Callable[[], Any]) -> Any:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            note()
        self._local.depth = depth + 1
        try:
            return call()
        finally:
            self._local.depth = depth

    def _wrap_open(self, function: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
                return self._outermost(
                    lambda: self._note(function, file, mode, mode_writes(mode)),
                    lambda: original(file, mode, *args, **kwargs),
                )

            return wrapper

        return make

    def _wrap_os_open(self, original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(path: Any, flags: int, *args: Any, **kwargs: Any) -> Any:
            return self._outermost(
                lambda: self._note(
                    "os.open",
                    path,
                    describe_flags(flags),
                    flags_write(flags),
                    kwargs.get("dir_fd"),
                ),
                lambda: original(path, flags, *args, **kwargs),
            )

        return wrapper

    def _wrap_mutator(self, name: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                def note() -> None:
                    for index, keyword, dir_keyword in _MUTATORS[name]:
                        target = args[index] if index < len(args) else kwargs.get(keyword)
                        if target is not None:
                            dir_fd = kwargs.get(dir_keyword) if dir_keyword else None
                            self._note(f"os.{name}", target, "", True, dir_fd)

                return self._outermost(note, lambda: original(*args, **kwargs))

            return wrapper

        return make

    def install(self) -> OpenRecorder:
        """Start recording (patches the calls named in the module docstring)."""
        if self._patches:
            return self
        self._patches.append(_Patch(builtins, "open", self._wrap_open("builtins.open")))
        self._patches.append(_Patch(io, "open", self._wrap_open("io.open")))
        self._patches.append(_Patch(pathlib.Path, "open", self._wrap_open("pathlib.Path.open")))
        # tarfile binds the built-in open at import (``bltn_open = open``) and uses that copy.
        if hasattr(tarfile, "bltn_open"):
            self._patches.append(_Patch(tarfile, "bltn_open", self._wrap_open("tarfile.bltn_open")))
        self._patches.append(_Patch(os, "open", self._wrap_os_open))
        for name in _MUTATORS:
            if hasattr(os, name):
                self._patches.append(_Patch(os, name, self._wrap_mutator(name)))
        return self

    def uninstall(self) -> None:
        """Stop recording and restore every patched call (safe to call twice)."""
        while self._patches:
            self._patches.pop().undo()

    def __enter__(self) -> OpenRecorder:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


# --- no network ---------------------------------------------------------------------------------


class NetworkBlockedError(RuntimeError):
    """A network call was made while the no-network guard was installed."""


@dataclass(frozen=True)
class NetworkAttempt:
    """One blocked network call."""

    function: str
    address: str
    pid: int


def _address(value: Any) -> str:
    if isinstance(value, tuple) and len(value) >= 2:
        return f"{value[0]}:{value[1]}"
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return str(value)


_SOCKET_FUNCTIONS = (
    "create_connection",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname_ex",
    "gethostbyaddr",
    "getnameinfo",
)


class NetworkGuard:
    """Blocks and records socket connections and name lookups while installed."""

    def __init__(self, *, log: str | os.PathLike[str] | None = None) -> None:
        self.attempts: list[NetworkAttempt] = []
        self._log = log
        self._patches: list[_Patch] = []
        self._lock = threading.Lock()

    def _block(self, function: str, address: Any) -> None:
        attempt = NetworkAttempt(function, _address(address), os.getpid())
        with self._lock:
            self.attempts.append(attempt)
        if self._log is not None:
            _append(self._log, {"event": "network", **asdict(attempt)})
        raise NetworkBlockedError(
            f"network access blocked by the test guard: {function}({attempt.address})"
        )

    def install(self) -> NetworkGuard:
        """Start blocking."""
        if self._patches:
            return self

        def method(name: str, address_of: Callable[[tuple[Any, ...]], Any]) -> None:
            def make(original: Any) -> Any:
                @functools.wraps(original)
                def wrapper(sock: Any, *args: Any) -> Any:
                    self._block(f"socket.{name}", address_of(args))

                return wrapper

            self._patches.append(_Patch(socket.socket, name, make))

        method("connect", lambda args: args[0] if args else None)
        method("connect_ex", lambda args: args[0] if args else None)
        method("sendto", lambda args: args[-1] if len(args) > 1 else None)

        def function(name: str) -> None:
            def make(original: Any) -> Any:
                @functools.wraps(original)
                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    values = [*args, *kwargs.values()]
                    # getaddrinfo(host, port, ...) names both; the others name one address.
                    address = tuple(values[:2]) if name == "getaddrinfo" else values[0]
                    self._block(f"socket.{name}", address)

                return wrapper

            self._patches.append(_Patch(socket, name, make))

        for name in _SOCKET_FUNCTIONS:
            function(name)
        return self

    def uninstall(self) -> None:
        """Stop blocking and restore the socket module (safe to call twice)."""
        while self._patches:
            self._patches.pop().undo()

    def __enter__(self) -> NetworkGuard:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


def probe_connection(address: tuple[str, int]) -> None:
    """Deliberately connect to ``address``: the control of the no-network tests.

    Importable by name in guarded processes (module ``_auditlens_test_guards``), so a spawned
    worker can be told to run it.
    """
    with socket.create_connection(address, timeout=1):
        pass


# --- child processes ----------------------------------------------------------------------------

_INSTALLED: list[Any] = []

_SITECUSTOMIZE = '''\
"""Generated by tests/guards.py (write_sitecustomize): install the test guards in every Python
process started with this folder on PYTHONPATH."""

import importlib.util
import sys

_spec = importlib.util.spec_from_file_location({name!r}, {path!r})
_guards = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _guards  # before exec: dataclasses look their module up by name
_spec.loader.exec_module(_guards)
_guards.install_from_environment()
'''


def install_from_environment() -> None:
    """In a child process: log its start and install the guards the environment asks for."""
    log = os.environ.get(ENV_LOG)
    if not log:
        return
    argv = list(getattr(sys, "orig_argv", sys.argv))
    _append(log, {"event": "process", "pid": os.getpid(), "ppid": os.getppid(), "argv": argv})
    _INSTALLED.append(NetworkGuard(log=log).install())
    roots = [root for root in os.environ.get(ENV_EVIDENCE, "").split(os.pathsep) if root]
    if roots:
        _INSTALLED.append(OpenRecorder(roots, log=log).install())


def write_sitecustomize(folder: Path) -> Path:
    """Write the ``sitecustomize.py`` that guards child processes into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    text = _SITECUSTOMIZE.format(name=MODULE_NAME, path=str(Path(__file__).resolve()))
    (folder / "sitecustomize.py").write_text(text, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class GuardLog:
    """What the guarded processes of one run logged."""

    processes: list[dict[str, Any]] = field(default_factory=list)
    network: list[NetworkAttempt] = field(default_factory=list)
    opens: list[OpenCall] = field(default_factory=list)

    @property
    def workers(self) -> list[dict[str, Any]]:
        """The ``multiprocessing`` spawn workers among the processes."""
        return [p for p in self.processes if any("spawn_main" in a for a in p["argv"])]

    @property
    def writes(self) -> list[OpenCall]:
        """Calls that could modify, create, move or remove evidence."""
        return [call for call in self.opens if call.writes]


def read_guard_log(path: Path) -> GuardLog:
    """Parse a guard log (missing: nothing was logged)."""
    log = GuardLog()
    if not path.exists():
        return log
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        event = record.pop("event")
        if event == "process":
            log.processes.append(record)
        elif event == "network":
            log.network.append(NetworkAttempt(**record))
        elif event == "open":
            log.opens.append(OpenCall(**record))
        else:
            raise ValueError(f"unknown guard log event {event!r}")
    return log


@dataclass(frozen=True)
class GuardedRun:
    """A finished guarded command: its exit code, output and guard log."""

    returncode: int
    stdout: str
    stderr: str
    log: GuardLog


def run_guarded(
    args: Sequence[str | os.PathLike[str]],
    *,
    site: Path,
    log: Path,
    evidence: Sequence[str | os.PathLike[str]] = (),
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> GuardedRun:
    """Run ``args`` with every Python process it starts guarded (see the module docstring).

    ``site`` is a folder from :func:`write_sitecustomize`; ``log`` must not exist yet;
    ``evidence`` are the roots whose opens are recorded; ``env`` adds environment variables.
    ``timeout`` only stops a hang.
    """
    if log.exists():
        raise FileExistsError(f"guard log {log} exists: one log per run")
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(site), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env[ENV_LOG] = str(log)
    env.pop(ENV_EVIDENCE, None)
    if evidence:
        env[ENV_EVIDENCE] = os.pathsep.join(os.path.abspath(os.fspath(p)) for p in evidence)
    done = subprocess.run(
        [os.fspath(a) for a in args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return GuardedRun(done.returncode, done.stdout, done.stderr, read_guard_log(log))
