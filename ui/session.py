"""What this visitor has uploaded for their own session: never written to disk, never shared."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage.errors import InputError, located_problems
from coverage.model.boundaries import simplify_shared_arcs, to_compact_geojson

BOUNDARIES_KEY = "uploaded_boundaries"
BOUNDARIES_NAME_KEY = "uploaded_boundaries_name"
BOUNDARIES_VERSION_KEY = "uploaded_boundaries_version"


def use_boundaries(frame, name: str) -> None:
    import hashlib
    import json

    text = to_compact_geojson(simplify_shared_arcs(frame))
    st.session_state[BOUNDARIES_KEY] = json.loads(text)
    st.session_state[BOUNDARIES_NAME_KEY] = name
    st.session_state[BOUNDARIES_VERSION_KEY] = hashlib.sha256(text.encode()).hexdigest()[:16]


def clear_boundaries() -> None:
    st.session_state.pop(BOUNDARIES_VERSION_KEY, None)
    st.session_state.pop(BOUNDARIES_KEY, None)
    st.session_state.pop(BOUNDARIES_NAME_KEY, None)


def boundaries(shipped: dict) -> dict:
    return st.session_state.get(BOUNDARIES_KEY) or shipped


def boundaries_version() -> str:
    return st.session_state.get(BOUNDARIES_VERSION_KEY, "shipped")


def boundaries_name() -> str | None:
    return st.session_state.get(BOUNDARIES_NAME_KEY)


def problems_table(error: InputError) -> pd.DataFrame:
    """One located problem per row (line, field, problem, file), shown as plain text (a dataframe
    never renders HTML). Blank columns are dropped."""
    table = pd.DataFrame(located_problems(error), columns=["Line", "Field", "Problem", "File"])
    return table.loc[:, [c for c in table.columns if c == "Problem" or table[c].astype(bool).any()]]


def use_register(register: pd.DataFrame, name: str) -> None:
    import hashlib

    from coverage.model.register import export_register_csv
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    st.session_state[REGISTER_KEY] = register
    st.session_state[REGISTER_NAME_KEY] = name
    st.session_state[REGISTER_VERSION_KEY] = hashlib.sha256(export_register_csv(register)).hexdigest()[:16]


def clear_register() -> None:
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    st.session_state.pop(REGISTER_VERSION_KEY, None)
    st.session_state.pop(REGISTER_KEY, None)
    st.session_state.pop(REGISTER_NAME_KEY, None)
