"""A real OpenID Connect provider on loopback for the sign-in tests: ``oidc-provider-mock`` (PyPI).

It is a complete provider (discovery document, authorization with PKCE, token endpoint, signed ID
tokens, JWKS, userinfo, end-session), served by Werkzeug on a thread of the test process at
``http://localhost:<free port>``. Nothing is mocked on the atlas's side: Streamlit's ``st.login`` talks to
it through Authlib exactly as it would to an organisation's provider.

Its authorization page is a form where the person signing in types their ``sub``; ``sign_in`` fills it in
Chromium. Each user's claims are set beforehand with ``PUT /users/<sub>`` (``Provider.set_user``); a sub
that was never set signs in with the claims ``{"email": sub}``.
"""

from __future__ import annotations

import json
import logging
import secrets
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provider:
    url: str  # http://localhost:<port>, also the issuer

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def set_user(self, sub: str, claims: Mapping[str, object]) -> None:
        """The claims the provider gives ``sub`` from now on (the ID token and userinfo)."""
        request = urllib.request.Request(
            f"{self.url}/users/{sub}",
            data=json.dumps(dict(claims)).encode("utf-8"),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204, response.status

    def auth_toml(self, app_port: int, *, cookie_secret: str | None = None) -> str:
        """The ``[auth]`` section of secrets.toml for an app served on ``localhost:<app_port>``."""
        secret = cookie_secret or secrets.token_hex(32)
        return (
            "[auth]\n"
            f'redirect_uri = "http://localhost:{app_port}/oauth2callback"\n'
            f'cookie_secret = "{secret}"\n'
            'client_id = "stalking-atlas-tests"\n'
            'client_secret = "not-a-real-secret"\n'
            f'server_metadata_url = "{self.metadata_url}"\n'
        )


@contextmanager
def running_provider(users: Mapping[str, Mapping[str, object]] | None = None) -> Iterator[Provider]:
    """A provider on a free loopback port for the duration of the block, with ``users`` (sub → claims)."""
    import oidc_provider_mock

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    with oidc_provider_mock.run_server_in_thread() as server:
        provider = Provider(f"http://localhost:{server.server_port}")
        for sub, claims in (users or {}).items():
            provider.set_user(sub, claims)
        yield provider


def write_team_secrets(
    folder: Path, provider: Provider, app_port: int, *, cookie_secret: str, workspace: str = "team"
) -> Path:
    """A secrets.toml for a team deployment signing in with ``provider``; its path."""
    path = folder / "secrets.toml"
    path.write_text(
        f'[atlas]\nmode = "team"\nworkspace = "{workspace}"\n\n'
        + provider.auth_toml(app_port, cookie_secret=cookie_secret),
        encoding="utf-8",
    )
    return path


def sign_in(page, provider: Provider, sub: str, timeout_ms: float = 30_000) -> None:
    """On the provider's authorization page (the browser was sent there by "Sign in"): sign in as ``sub``."""
    page.wait_for_url(f"{provider.url}/oauth2/authorize**", timeout=timeout_ms)
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
