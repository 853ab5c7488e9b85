"""Errors the domain raises. Each names what was wrong, so a person can fix it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request."""


class IllegalTransition(DomainError):
    """A notice item was asked to take a step its state does not allow."""

    def __init__(self, state: str, step: str, item_id: int | None = None) -> None:
        self.state = state
        self.step = step
        self.item_id = item_id
        where = f"item {item_id} " if item_id is not None else "an item "
        super().__init__(f"{where}in state '{state}' cannot {step.replace('_', ' ')}")


class ValidationFailed(DomainError):
    """Input broke one or more rules; `problems` lists each, with where and what."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class FilingSuspended(DomainError):
    """The filer is suspended from filing notices for a period."""


class NotPermitted(DomainError):
    """The actor may not take this step on this object."""


class NotFound(DomainError):
    """No such object (or none the actor may see: the two answer alike)."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} not found")
