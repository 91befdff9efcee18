"""``auditlens``: the command line. Thin: arguments in, core calls, exit codes out.

Exit codes: 0 verified (or success), 1 tampered, 2 invalid input or usage, 3 intact but untrusted
or unsealed, 141 (128 + SIGPIPE, as a shell reports a command ended by a closed pipe) when the
reader of the output went away (``auditlens verify ... | head -1``): the verdict was not all
delivered, so neither "verified" (0) nor "tampered" (1) may be claimed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from auditlens import __version__
from auditlens.cli.output import err
from auditlens.core.errors import Error, UsageError
from auditlens.core.verify.findings import EXIT_CODES, Verdict

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl+C
EXIT_CLOSED_PIPE = 141


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


_EPILOG = """\
exit codes: 0 verified (or success), 1 tampered, 2 invalid input or usage error,
3 intact but untrusted or unsealed. 'auditlens COMMAND --help' describes a command."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (each with a help text: tests/cli check it)."""
    parser = _Parser(
        prog="auditlens",
        description="Verify and investigate sealed audit evidence offline.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"auditlens {__version__}")
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=_Parser,
        title="commands",
        metavar="COMMAND",
        help="one of:",
    )

    gui = sub.add_parser(
        "gui",
        help="open the desktop workbench, optionally on a case (see 'auditlens gui --help')",
        add_help=False,
    )
    gui.add_argument(
        "gui_args",
        nargs=argparse.REMAINDER,
        metavar="...",
        help="the workbench's own arguments: [CASE_DIR] [--tab T] [--filter Q] [--screenshot PNG]",
    )

    keygen = sub.add_parser("keygen", help="create a signing key pair")
    keygen.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder for signing-key.pem and .pub.pem (examiner-key.pem, .pub.pem, "
        "examiner-cert.pem with --examiner)",
    )
    keygen.add_argument(
        "--alg",
        default=None,
        choices=["ed25519", "ecdsa-p256", "rsa-pss-3072"],
        help="signature algorithm (default ed25519; ecdsa-p256 with --examiner)",
    )
    keygen.add_argument(
        "--examiner",
        metavar="NAME",
        help="an examiner's key for signing PDF reports, with a self-signed certificate "
        "naming NAME (see docs/report-signature.md)",
    )

    seal = sub.add_parser("seal", help="seal raw evidence into a signed bundle")
    seal.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="raw evidence files to seal, in order"
    )
    seal.add_argument("--key", required=True, type=Path, help="PEM private key")
    seal.add_argument("--out", required=True, type=Path, help="bundle folder, .zip or .tar.gz")
    seal.add_argument(
        "--stream-id", help="stream id (default: the previous bundle's, else 'default')"
    )
    seal.add_argument("--previous", type=Path, help="the bundle this one continues")
    seal.add_argument(
        "--checkpoint-every",
        type=int,
        default=4096,
        metavar="N",
        help="records per checkpoint (default 4096)",
    )

    verify = sub.add_parser("verify", help="verify bundles, exhibit folders or signed PDF reports")
    verify.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="bundle folders, .zip, .tar or .tar.gz files; exhibit folders; or PDF reports",
    )
    verify.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="trust store file or PEM public key (repeatable)",
    )
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )

    sample = sub.add_parser("sample", help="write deterministic synthetic evidence")
    sample.add_argument(
        "--out", required=True, type=Path, help="folder for the raw evidence and bundles"
    )
    sample.add_argument(
        "--records", type=int, default=20_000, help="records to generate (default 20000)"
    )
    sample.add_argument(
        "--days", type=int, default=3, help="days of activity they span (default 3)"
    )
    sample.add_argument(
        "--seed", type=int, default=7, help="random seed: the same seed, the same evidence"
    )
    sample.add_argument(
        "--pod-logs",
        action="store_true",
        help="also write the audit stream as pod logs (CRI, Docker, kubectl, Fluent Bit)",
    )
    sample.add_argument(
        "--metrics",
        action="store_true",
        help="also write OTLP metrics of the audit events, with exemplars (raw/metrics)",
    )

    from auditlens.cli.case_parsers import add_parsers

    add_parsers(sub)
    from auditlens.cli.analysis_commands import add_parsers as add_analysis_parsers

    add_analysis_parsers(sub)
    from auditlens.cli.exhibit_commands import add_parsers as add_exhibit_parsers

    add_exhibit_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``auditlens`` command."""
    for stream in (sys.stdout, sys.stderr):
        # Paths from a hostile archive may not be UTF-8: show them escaped, never crash on them.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        args = build_parser().parse_args(argv)
        if args.command == "gui":
            # The workbench starts from auditlens.entry, above the CLI: the CLI never loads Qt.
            raise UsageError("the workbench starts from the 'auditlens' command: auditlens gui")
        from auditlens.cli import commands

        name = f"cmd_{args.command.replace('-', '_')}"
        handler = getattr(commands, name, None)
        if handler is None:
            from auditlens.cli import case_commands

            handler = getattr(case_commands, name, None)
        if handler is None:
            from auditlens.cli import legal_commands

            handler = getattr(legal_commands, name, None)
        if handler is None:
            from auditlens.cli import exhibit_commands

            handler = getattr(exhibit_commands, name, None)
        if handler is None:
            from auditlens.cli import analysis_commands

            handler = getattr(analysis_commands, name)
        code = int(handler(args))
        # Flush here, not at the interpreter's exit: a reader that already left must end in
        # the handler below, not in an "Exception ignored" message and exit code 120.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except UsageError as exc:
        err(f"auditlens: usage: {exc.diagnostics()}")
        return EXIT_USAGE
    except Error as exc:
        if interrupted_in_duckdb(exc):
            err("auditlens: interrupted")
            return EXIT_INTERRUPTED
        err(f"auditlens: error: {exc.diagnostics()}")
        return EXIT_CODES[Verdict.INVALID]
    except KeyboardInterrupt:
        err("auditlens: interrupted")
        return EXIT_INTERRUPTED
    except OSError as exc:
        # A file or folder the operating system refuses (no permission, not a folder, a disk
        # error) where no check above named it: the place and the reason, never a traceback
        # (docs/robustness.md). Nothing is half-written: each input is one transaction.
        place = exc.filename if exc.filename is not None else "input/output"
        err(f"auditlens: error: {place}: {exc.strerror or exc}")
        return EXIT_CODES[Verdict.INVALID]
    except Exception as exc:
        if interrupted_in_duckdb(exc):
            err("auditlens: interrupted")
            return EXIT_INTERRUPTED
        # DuckDB's own errors (a full disk while writing the case, a database left unusable by
        # one) are the case's storage failing: say so, with the reason, and exit as for errors.
        if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
            err(f"auditlens: error: the case database failed: {exc}")
            return EXIT_CODES[Verdict.INVALID]
        raise


def interrupted_in_duckdb(exc: BaseException) -> bool:
    """Whether an error is Ctrl+C in disguise, not the case's database or the input failing.

    Three ways it comes: DuckDB stops a running query on SIGINT with RuntimeError("Query
    interrupted"); DuckDB reads an Arrow batch from Python through the interpreter, and a
    KeyboardInterrupt raised there reaches the caller as DuckDB's own error ("reading the object
    registered as '_batch' as Arrow data failed: KeyboardInterrupt"), or as the context of an
    error DuckDB raises while the interruption is handled; and the importer wraps either in its
    StorageError ("the case database failed"). Either way the case is as after any interruption
    (docs/case.md, "One transaction per input").
    """
    seen: BaseException | None = exc
    for _ in range(16):  # a chain of causes is short; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        if isinstance(seen, RuntimeError) and str(seen) == "Query interrupted":
            return True  # DuckDB's own answer to SIGINT during a query (nothing else interrupts)
        module = type(seen).__module__.split(".")[0]
        if module in ("duckdb", "_duckdb") and "KeyboardInterrupt" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _closed_pipe() -> int:
    """The reader of stdout (e.g. ``| head``) went away: end quietly, without a traceback.

    stdout is pointed at the null device so that the interpreter's final flush of what is still
    buffered cannot fail again.
    """
    import contextlib
    import os

    # Without a descriptor (an embedding caller's stdout) nothing is flushed to it at exit.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_CLOSED_PIPE


if __name__ == "__main__":
    sys.exit(main())
