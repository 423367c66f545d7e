"""Making data text safe in Streamlit markdown: presentation, so it lives in the UI glue, not the core."""

from __future__ import annotations

import re

# Characters that start emphasis, links, images, code, HTML, tables or maths. Hyphens and dots
# only matter at the start of a line, and every data string here follows other text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~$])")


def escape_markdown(text: object) -> str:
    """Make data text inert in Streamlit markdown (no links, emphasis or HTML from data)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def bold(text: object) -> str:
    """Data text in bold, escaped first."""
    return f"**{escape_markdown(text)}**"
