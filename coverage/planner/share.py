"""Share links that carry a scenario: compressed, size-limited, and read exactly like an uploaded file.

A link holds the scenario's YAML, compressed with zlib and written in URL-safe base64, in one query
parameter (``?scenario=…``). It is how a public deployment's visitors share a scenario without the server
keeping anything, and it works in every mode.

Reading a link is bounded before anything is parsed: the parameter's length, then the size it may
inflate to (read with a size cap, so a small token cannot expand into a large document), then the same
checks and validation as an upload (``coverage.planner.schema.load_scenario_text``). A truncated,
oversized or tampered link gets a message that says which, and nothing on screen changes.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from coverage.errors import InputError
from coverage.planner.schema import Scenario, load_scenario_text, scenario_to_yaml

PARAM = "scenario"
PREFIX = "s1."  # the link format's version: a later format gets a new prefix
# Browsers and proxies handle URLs of at least 8,000 characters; a preset's YAML compresses to about 3,000.
MAX_TOKEN_CHARS = 7_000
MAX_INFLATED_BYTES = 200_000  # a scenario of this size is a national rollout with long notes
WHERE = "share link"


def share_token(scenario: Scenario) -> str:
    """The link parameter for ``scenario``; ``InputError`` if it is too large to travel in a link."""
    packed = zlib.compress(scenario_to_yaml(scenario).encode("utf-8"), level=9)
    token = PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")
    if len(token) > MAX_TOKEN_CHARS:
        raise InputError(
            f"this scenario is too large for a link ({len(token):,} characters; at most {MAX_TOKEN_CHARS:,}): "
            "share it as a YAML file instead",
            where=WHERE,
        )
    return token


def scenario_from_token(token: str) -> Scenario:
    """The scenario a link carries, validated like an upload; ``InputError`` saying what is wrong."""
    token = (token or "").strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise InputError(f"is longer than a scenario link can be ({MAX_TOKEN_CHARS:,} characters)", where=WHERE)
    if not token.startswith(PREFIX):
        raise InputError("is not a scenario link made by this atlas (it does not start with s1.)", where=WHERE)
    body = token[len(PREFIX) :]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise InputError("has been changed or cut short: it is not valid base64", where=WHERE) from None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(packed, MAX_INFLATED_BYTES + 1)
    except zlib.error:
        raise InputError("has been changed or cut short: it does not decompress", where=WHERE) from None
    if len(text) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
        raise InputError(
            f"would expand to more than {MAX_INFLATED_BYTES // 1000} KB; a scenario is a few KB", where=WHERE
        )
    if not inflater.eof:
        raise InputError("has been cut short: copy the whole link", where=WHERE)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("has been changed: it does not hold text", where=WHERE) from None
    return load_scenario_text(decoded, where=WHERE)
