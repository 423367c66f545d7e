"""Errors that describe bad input in words a user can act on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

PathPart = str | int


def path_text(path: Sequence[PathPart]) -> str:
    """('unit_models', 0, 'roles', 2, 'salary') → 'unit_models[0].roles[2].salary'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by its field path (not by words to parse back)."""

    path: tuple[PathPart, ...]
    message: str

    def __str__(self) -> str:
        where = path_text(self.path)
        return f"{where}: {self.message}" if where else self.message


class InputError(ValueError):
    """Bad user or file input: the message says what is wrong and where.

    The CLI turns it into exit status 2 with the message on stderr; pages show
    it with ``st.error`` and keep what the user already had.
    """

    def __init__(self, message: str | Problem, *, where: str | None = None):
        self.where = where
        self.located = [message if isinstance(message, Problem) else Problem((), message)]
        self.reason = str(message)
        super().__init__(f"{where}: {self.reason}" if where else self.reason)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_input_error, (self.located[0], self.where))


def problems_of(error: InputError) -> list[Problem]:
    """Every problem an error carries, each with its field path (empty when it has none)."""
    return list(error.located)


class InputErrors(InputError):
    """Several problems found in one file, each already located (file, row, field)."""

    def __init__(self, problems: Sequence[str | Problem], *, where: str | None = None, limit: int = 20):
        located = [p if isinstance(p, Problem) else Problem((), str(p)) for p in problems]
        self.problems = [str(p) for p in problems]
        shown = self.problems[:limit]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"{len(self.problems)} problem(s): {text}", where=where)
        # each problem with its field path; ``problems`` is the same list as text
        self.located = located
        self._limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the problems (a worker process sends its errors back): ValueError's default keeps
        only the joined message."""
        return (_rebuild_input_errors, (self.located, self.where, self._limit))


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


def _rebuild_input_error(problem: Problem, where: str | None) -> InputError:
    return InputError(problem, where=where)


def _rebuild_input_errors(located: list[Problem], where: str | None, limit: int) -> InputErrors:
    return InputErrors(located, where=where, limit=limit)
