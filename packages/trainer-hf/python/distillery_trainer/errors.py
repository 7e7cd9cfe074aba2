"""One error type for everything that ends a run with an `error` event."""

from __future__ import annotations

from typing import Optional


class TrainerError(Exception):
    """A failure the studio shows to the user: a code, the run-config field at fault, a hint."""

    def __init__(
        self,
        message: str,
        code: str = "internal",
        field: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.hint = hint

    def to_event_body(self) -> dict:
        body: dict = {"type": "error", "message": self.message or self.code, "code": self.code}
        if self.field:
            body["field"] = self.field
        if self.hint:
            body["hint"] = self.hint
        return body


def config_error(field: str, message: str, hint: Optional[str] = None) -> TrainerError:
    return TrainerError(message, code="config_invalid", field=field, hint=hint)
