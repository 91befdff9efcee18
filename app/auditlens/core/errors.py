"""The one error hierarchy of AuditLens.

Every error the project raises on purpose derives from :class:`Error`. A class's docstring is its
default message, so ``raise MissingThingError()`` still says something useful. ``diagnostics()``
renders the error for a person, with its location when it has one.
"""

from __future__ import annotations


class Error(Exception):
    """AuditLens failed."""

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str | None = None,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.message = message or (type(self).__doc__ or "error").strip().splitlines()[0]
        self.path = path
        self.line = line
        self.offset = offset
        super().__init__(self.message)

    def location(self) -> str:
        """The place the error refers to, as ``path:line`` or ``path@offset``, or empty."""
        if self.path is None:
            return ""
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.offset is not None:
            return f"{self.path}@{self.offset}"
        return self.path

    def diagnostics(self) -> str:
        """A one-line description for a person: the location, then the message."""
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class UsageError(Error):
    """The command was used wrongly."""


class InvalidInputError(Error):
    """The input is not readable evidence."""


class LimitExceededError(InvalidInputError):
    """The input exceeds a safety limit."""


class UnsupportedFormatError(InvalidInputError):
    """The input is in a format AuditLens does not read."""


class SigningKeyError(Error):
    """The key cannot be used."""


class TrustStoreError(Error):
    """The trust store cannot be read."""


class StorageError(Error):
    """The case database could not be written or read."""


class CancelledError(Error):
    """The operation was cancelled."""


class QuerySyntaxError(InvalidInputError):
    """The filter query is not valid."""

    def __init__(self, start: int, end: int, message: str | None = None) -> None:
        # start/end are character offsets into the query (0-based, end exclusive) so a filter bar
        # can underline exactly the offending text; the message names them for a person too, as
        # the first and last character underlined.
        self.start = start
        self.end = max(start, end)
        self.reason = message or (type(self).__doc__ or "error").strip().splitlines()[0]
        if self.end - self.start <= 1:
            where = f"at position {self.start}"
        else:
            where = f"at positions {self.start}-{self.end - 1}"
        super().__init__(f"{self.reason} ({where})")
