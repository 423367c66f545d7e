"""Errors that describe bad input in words a user can act on."""

from __future__ import annotations

import re


class InputError(ValueError):
    """Bad user or file input: the message says what is wrong and where.

    The CLI turns it into exit status 2 with the message on stderr; pages show
    it with ``st.error`` and keep what the user already had.
    """

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        self.reason = message
        super().__init__(f"{where}: {message}" if where else message)


class InputErrors(InputError):
    """Several problems found in one file, each already located (file, row, field)."""

    def __init__(self, problems: list[str], *, where: str | None = None, limit: int = 20):
        self.problems = list(problems)
        shown = self.problems[:limit]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"{len(self.problems)} problem(s): {text}", where=where)


# "register.csv line 13, field 'force_codes': unknown force code 'E23999999'"
_LOCATED = re.compile(r"^(?P<file>.+?) line (?P<line>\d+)(?:, field '(?P<field>[^']*)')?: (?P<problem>.*)$", re.S)


def located_problems(error: InputError) -> list[dict[str, str]]:
    """One problem per row, split into what is wrong and where (file, line, field), for a table."""
    problems = error.problems if isinstance(error, InputErrors) else [error.reason]
    rows = []
    for text in problems:
        match = _LOCATED.match(text)
        if match:
            rows.append(
                {
                    "Line": match["line"],
                    "Field": match["field"] or "",
                    "Problem": match["problem"],
                    "File": match["file"],
                }
            )
        else:
            rows.append({"Line": "", "Field": "", "Problem": text, "File": error.where or ""})
    return rows
