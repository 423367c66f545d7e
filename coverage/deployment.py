"""How this atlas is deployed: for one person, for a team, or for the public.

Chosen in configuration, in ``.streamlit/secrets.toml`` (section ``[atlas]``) or the environment (which
wins), and documented in the README:

* ``mode = "personal"`` (the default): no sign-in; scenarios in the SQLite store under the user's data
  folder; everything is done as the user ``local`` in the workspace ``personal``.
* ``mode = "team"``: sign-in required with Streamlit's OpenID Connect (``st.login``; an ``[auth]`` section
  with the provider's settings must exist). Every scenario has an owner and a workspace (``workspace``,
  default ``team``); members list, open, duplicate and compare; only the owner or an admin (``admins``,
  comma-separated user ids) overwrites, restores or deletes.
* ``mode = "public"``: no sign-in and no server-side scenario writes at all; a visitor's scenarios live in
  their session and travel as YAML files or share links.

Environment variables: ``ATLAS_MODE``, ``ATLAS_WORKSPACE``, ``ATLAS_ADMINS``. Pure: the caller passes the
environment and the secrets as mappings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from coverage.errors import InputError

Mode = Literal["personal", "team", "public"]
MODES: tuple[Mode, ...] = ("personal", "team", "public")
LOCAL_USER = "local"
PERSONAL_WORKSPACE = "personal"
DEFAULT_TEAM_WORKSPACE = "team"
WORKSPACE_FORM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


@dataclass(frozen=True)
class Deployment:
    mode: Mode = "personal"
    workspace: str = PERSONAL_WORKSPACE
    admins: frozenset[str] = frozenset()

    @property
    def needs_sign_in(self) -> bool:
        return self.mode == "team"

    @property
    def writes_to_store(self) -> bool:
        """Public deployments write nothing on the server; the others keep scenarios in the store."""
        return self.mode != "public"


def _setting(name: str, env: Mapping[str, str], section: Mapping[str, Any]) -> str:
    value = env.get(f"ATLAS_{name.upper()}")
    if value is None:
        value = section.get(name)
    return "" if value is None else str(value).strip()


def deployment_from(env: Mapping[str, str], secrets: Mapping[str, Any] | None = None) -> Deployment:
    """The deployment the configuration describes; ``InputError`` naming the setting when it is wrong."""
    section = dict((secrets or {}).get("atlas") or {})
    mode = _setting("mode", env, section).lower() or "personal"
    if mode not in MODES:
        raise InputError(f"is '{mode[:40]}'; choose personal, team or public", where="ATLAS_MODE / [atlas] mode")
    admins_text = _setting("admins", env, section)
    admins = frozenset(part.strip() for part in admins_text.split(",") if part.strip())
    if mode == "personal":
        return Deployment("personal", PERSONAL_WORKSPACE, admins)
    workspace = _setting("workspace", env, section).lower() or (DEFAULT_TEAM_WORKSPACE if mode == "team" else "public")
    if not WORKSPACE_FORM.match(workspace):
        raise InputError(
            f"'{workspace[:40]}' is not a workspace name (lower-case letters, digits, - and _)",
            where="ATLAS_WORKSPACE / [atlas] workspace",
        )
    if mode == "team" and not (secrets or {}).get("auth"):
        raise InputError(
            "team mode needs sign-in: add an [auth] section to .streamlit/secrets.toml (see the README)",
            where="[auth]",
        )
    return Deployment(cast(Mode, mode), workspace, admins)
