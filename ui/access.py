"""Who is using the atlas, and what they may do: the deployment mode, sign-in and the scenario store.

Personal (default): no sign-in, everything as ``local``. Team: Streamlit's OpenID Connect sign-in
(``st.login``) before any page; the user id is the provider's e-mail claim (else its ``sub``). Public: no
sign-in and no store at all (``store()`` is None). See ``coverage/deployment.py`` and the README.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import streamlit as st

from coverage.deployment import LOCAL_USER, Deployment, deployment_from
from coverage.errors import InputError
from ui.markdown import escape_markdown

if TYPE_CHECKING:  # the store (and the planner's pydantic models) load on the pages that use it
    from coverage.planner.store import ScenarioStore


def _secrets() -> dict[str, Any]:
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except (FileNotFoundError, KeyError, OSError):
        return {}
    except Exception as error:  # st.secrets raises its own error class when no secrets file exists
        if "secret" in type(error).__name__.lower():
            return {}
        raise


def deployment() -> Deployment:
    """This server's deployment (read each run: cheap, and a test may change the environment)."""
    return deployment_from(os.environ, _secrets())


def actor() -> str:
    """The signed-in user's id in team mode; ``local`` otherwise."""
    if deployment().mode != "team" or not st.user.is_logged_in:
        return LOCAL_USER
    return str(st.user.get("email") or st.user.get("sub") or "")


def sign_in_gate() -> None:
    """Team mode: a visitor who has not signed in sees only the sign-in page."""
    try:
        current = deployment()
    except InputError as error:
        st.error(f"The atlas is not configured correctly: {escape_markdown(str(error))}")
        st.stop()
    if not current.needs_sign_in or st.user.is_logged_in:
        return
    st.title("Stalking Provision Atlas")
    st.markdown(
        "This atlas is set up for a team: sign in with your organisation's account to see the maps and the "
        "team's saved scenarios."
    )
    st.button("Sign in", type="primary", on_click=st.login, key="access_sign_in")
    st.stop()


def account_box() -> None:
    """In the sidebar: who is signed in, and a way out (team mode only)."""
    if deployment().mode != "team" or not st.user.is_logged_in:
        return
    with st.sidebar:
        st.caption(f"Signed in as {escape_markdown(actor())} · workspace {escape_markdown(deployment().workspace)}")
        st.button("Sign out", on_click=st.logout, key="access_sign_out")


@st.cache_resource(show_spinner=False, max_entries=8)
def _store(url: str, db: str, admins: str) -> ScenarioStore:
    from coverage.planner.store import open_store

    return open_store({"ATLAS_STORE_URL": url, "ATLAS_SCENARIO_DB": db, "ATLAS_ADMINS": admins})


def store() -> ScenarioStore | None:
    """The scenario store, shared by every session of this server; None in public mode (nothing is written)."""
    current = deployment()
    if not current.writes_to_store:
        return None
    admins = ",".join(sorted(current.admins | {a.strip() for a in os.environ.get("ATLAS_ADMINS", "").split(",")}))
    return _store(os.environ.get("ATLAS_STORE_URL", ""), os.environ.get("ATLAS_SCENARIO_DB", ""), admins.strip(","))
