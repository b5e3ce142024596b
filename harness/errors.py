"""Errors the harness raises for bad input: each carries a one-line message meant for the user."""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every harness error; `str(error)` is one line that names what was wrong and where."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class UnknownTaskSetError(HarnessError):
    """A task-set name that the harness does not know."""


class InstanceSourceError(HarnessError):
    """A file or folder of instances that is missing, unreadable or not in a supported format."""


class HubUnavailableError(HarnessError):
    """The Hugging Face hub could not give a task set (offline, unknown dataset, `datasets` missing)."""


class InstanceRowError(HarnessError):
    """A row that lacks a required field or holds a value of the wrong kind."""


class MissingInstancesError(HarnessError):
    """Instance ids that were asked for but are not in the task set."""


class ImageMapError(HarnessError):
    """A user-supplied image map that is missing or not a mapping of instance id to image name."""


class InvalidPatchError(HarnessError, TypeError):
    """A patch that is not a string (None included): grading needs a unified diff, '' for no change."""


class SandboxPreparationError(HarnessError):
    """An instance's task state could not be put in place in a sandbox (e.g. a SWE-smith bug diff that does
    not apply to the image's clean commit): the image does not match the row."""
