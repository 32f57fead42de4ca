"""Errors the simulator raises before it serves anything (the wire's errors: :mod:`.exceptions`)."""

from __future__ import annotations

from typing import Any


class FleetFileError(Exception):
    """A fleet file is invalid; names the file and the field."""

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.message = message
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its facts: the default would call __init__ with the message alone.
        return type(self), (self.file, self.path, self.message)
