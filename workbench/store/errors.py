"""Errors raised by the store. Every message is meant to be shown to a person as is."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: anything the store cannot do, with a message fit for a notice or stderr."""


class StoreBusyError(StoreError):
    """Another process held a write lock for longer than the busy timeout."""


class StoreCorruptError(StoreError):
    """The file is not a usable SQLite database (garbage, truncated, failed quick_check)."""

    moved_to = None  # where open_store set the damaged file aside, once it has


class ForeignFileError(StoreError):
    """The path holds a file that is not recognisably a workbench database; it is left untouched."""


class NoDatabaseError(StoreError):
    """A read-only open found no database (or an empty one): nothing has been logged there yet."""

    def __init__(self, path: object) -> None:
        super().__init__(f"no runs yet: there is no database at {path}")
        self.path = path


class StoreVersionError(StoreError):
    """The database was written by a newer workbench whose schema this one does not know."""


class NotFoundError(StoreError):
    """A session, run or preset id that is not in the database."""


class SessionNotFoundError(NotFoundError):
    pass


class RunNotFoundError(NotFoundError):
    pass


class PresetNotFoundError(NotFoundError):
    pass
