"""The three deployments as they run, on real servers: nothing here is mocked.

* Team: the app in team mode signs people in through a real OpenID Connect provider on loopback
  (``oidc-provider-mock``, see tests/oidc_server.py), in Chromium: a visitor sees only the sign-in page;
  Alice saves a scenario; Bob sees it with her as owner, read-only for him (and why), and duplicates it;
  signing out ends the session; a forged sign-in cookie gets the sign-in page, never an error.
  Streamlit is given the secrets (``[auth]`` and ``[atlas] mode = "team"``) as the only secrets file with
  ``--secrets.files <tmp>/secrets.toml`` on its command line (tests/apprunner.py ``secrets_file=``).
* Two replicas, one database: two app processes on one real PostgreSQL server (tests/pg_server.py); a save
  in the browser on one is listed by the other at its next rerun, and back.
* Public: no store at all. Every page in the browser, every planner button (AppTest), share links good
  and tampered: the folder the store would live in stays empty.
* The store's faults as a planner meets them (AppTest): the file deleted while the app runs, the file
  made read-only (``chattr +i`` when the tests run as root, who ignores permission bits).


"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths
from coverage.model import atlas_data
from coverage.outputs.scenario_charts import money
from coverage.planner.costing import run_scenario, with_deployments
from coverage.planner.demand import demand_offences
from coverage.planner.schema import load_preset
from coverage.planner.share import share_token
from coverage.planner.store import SQLiteScenarioStore, open_store
from tests.apprunner import free_port, record_outside_requests, running_app
from tests.oidc_server import Provider, running_provider, sign_in, write_team_secrets
from ui.markdown import escape_markdown

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
KENT = "E23000032"
CASH = "Total cost, cash (nominal)"
WIDE = {"width": 1400, "height": 1000}
USER_COOKIE = "_streamlit_user"  # streamlit/web/server/starlette/starlette_server_config.py USER_COOKIE_NAME
ATLAS_SETTINGS = ("ATLAS_MODE", "ATLAS_WORKSPACE", "ATLAS_ADMINS", "ATLAS_STORE_URL", "ATLAS_SCENARIO_DB")
IDLE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
)
HAVE_CHROMIUM = bool(shutil.which("chromium")) or os.path.exists("/usr/bin/chromium")


def browser_test(test):
    """A test that drives Debian's Chromium (the AppTest ones in this module need no browser)."""
    return pytest.mark.browser(pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed")(test))


def clean_env(**settings: str) -> dict[str, str | None]:
    """The app's settings exactly as given: any ATLAS_* of this shell is removed."""
    return {**dict.fromkeys(ATLAS_SETTINGS), **settings}


def core_cash(scenario) -> str:
    """A scenario's cash total from the core alone, formatted as the page formats it."""
    atlas = atlas_data.load_all()
    existing = atlas_data.forces_with_multi_agency_unit(atlas.forces, atlas.register)
    offences = demand_offences(scenario, atlas.crime, atlas.indicators).offences
    return money(run_scenario(scenario, atlas.forces, offences, existing_units=existing).totals["total_cost_nominal"])


# --------------------------------------------------------------------------------------------
# Browser helpers
# --------------------------------------------------------------------------------------------


def settle(page) -> None:
    """Wait until the script has stopped running, and is still stopped a moment later."""
    for _ in range(2):
        page.wait_for_timeout(300)
        page.wait_for_function(IDLE, timeout=60_000)


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def cash(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=CASH)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def open_planner(page, base: str, query: str = "") -> None:
    page.goto(f"{base}/scenarios{query}")
    page.get_by_text("Cost by year.").first.wait_for(timeout=90_000)
    settle(page)


def save_tab(page) -> None:
    """Show the planner's "Save, open and share" tab. Asked for before every step: a rerun that adds or
    removes a message above the tabs sends the browser back to the first tab (Results)."""
    tab = page.get_by_role("tab", name="Save, open and share")
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    page.get_by_role("heading", name=re.compile("^(Saved scenarios|Keep it)$")).wait_for(timeout=30_000)


def type_into(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    settle(page)


def save_as(page, name: str) -> None:
    save_tab(page)
    type_into(page, "Name", name)
    save_tab(page)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text(re.compile(f"Saved “{re.escape(name)}” as version \\d+")).wait_for(timeout=30_000)
    settle(page)
    save_tab(page)


def saved_rows(page) -> list[dict[str, str]]:
    """The "Saved scenarios" table as the browser shows it (the data grid's accessible table)."""
    grid = page.locator("[data-testid=stTabPanel]:visible [data-testid=stDataFrame]").filter(has_text="Owner")
    grid.first.wait_for(timeout=30_000)
    grid.first.scroll_into_view_if_needed()
    table = grid.first.locator("table").first  # drawn on a canvas; this table is for screen readers
    table.wait_for(state="attached", timeout=30_000)
    rows = [
        [(cell.text_content() or "").strip() for cell in row.locator("th, td").all()]
        for row in table.locator("tr").all()
    ]
    header, body = rows[0], [r for r in rows[1:] if any(r)]
    return [dict(zip(header, r, strict=False)) for r in body]


def wait_for_row(page, name: str, timeout_s: float = 30) -> dict[str, str]:
    for _ in range(int(timeout_s * 2)):
        found = [r for r in saved_rows(page) if r.get("Name") == name]
        if found:
            return found[0]
        page.wait_for_timeout(500)
    raise AssertionError(f"{name!r} is not listed: {saved_rows(page)}")


def pick_saved(page, name: str) -> None:
    box = page.get_by_role("combobox", name="Saved scenario")
    if box.input_value() == name:
        return
    box.click()
    page.get_by_role("option", name=name, exact=True).click()
    settle(page)
    save_tab(page)


def rerun(page) -> None:
    """What a reader does to refresh: press R (Streamlit's rerun key) with nothing focused."""
    page.locator("[data-testid=stMain] h1").first.click()
    page.keyboard.press("r")
    page.wait_for_timeout(300)
    settle(page)


def sign_in_page_only(page) -> None:
    """The sign-in page and nothing else: no pages in a sidebar, no map, no planner, no error."""
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    settle(page)
    text = main_text(page)
    assert "set up for a team" in text, text[:300]
    assert page.locator("[data-testid=stSidebar]").count() == 0
    assert page.get_by_role("link", name="Scenario planner").count() == 0
    assert page.locator("iframe").count() == 0  # the map is an iframe
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in text and "Signed in as" not in text
    assert page.get_by_text("Page not found").count() == 0


# --------------------------------------------------------------------------------------------
# Team mode: a real OpenID Connect provider, the app signing people in
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamApp:
    url: str  # http://localhost:<port>: the origin of the redirect URI, as the cookies are set for it
    port: int
    db: Path
    cookie_secret: str
    folder: Path


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    users = {
        ALICE: {"email": ALICE, "name": "Alice Example"},
        BOB: {"email": BOB, "name": "Bob Example"},
    }
    with running_provider(users) as running:
        yield running


@pytest.fixture(scope="module")
def team_app(provider, tmp_path_factory) -> Iterator[TeamApp]:
    folder = tmp_path_factory.mktemp("team")
    port = free_port()
    cookie_secret = secrets.token_hex(32)
    secrets_file = write_team_secrets(folder, provider, port, cookie_secret=cookie_secret)
    db = folder / "store" / "scenarios.sqlite"
    with running_app(
        port=port,
        secrets_file=secrets_file,
        env=clean_env(ATLAS_SCENARIO_DB=str(db)),
        log_path=folder / "streamlit.log",
    ):
        yield TeamApp(f"http://localhost:{port}", port, db, cookie_secret, folder)


def signed_in(browser, team_app: TeamApp, provider: Provider, who: str):
    """A new browser (its own cookies) in which ``who`` has signed in; it is on the atlas's map page."""
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(team_app.url)
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, provider, who)
    page.get_by_text(f"Signed in as {who}").wait_for(timeout=60_000)
    settle(page)
    return context, page


@browser_test
def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_page(team_app, browser):
    context = browser.new_context(viewport=WIDE)
    outside = record_outside_requests(context, team_app.url)
    pages = {path: context.new_page() for path in ("/", "/scenarios", "/methods", "/?force=E23000006")}
    for path, page in pages.items():  # all at once: the server renders them side by side
        page.goto(team_app.url + path)
    for page in pages.values():
        sign_in_page_only(page)
    assert outside == []
    context.close()


@browser_test
def test_alice_saves_bob_sees_it_read_only_with_the_reason_and_duplicates_it(team_app, provider, browser):
    alice_context, alice = signed_in(browser, team_app, provider, ALICE)
    sidebar = alice.locator("[data-testid=stSidebar]").inner_text()
    assert f"Signed in as {ALICE} · workspace team" in sidebar
    open_planner(alice, team_app.url)
    save_as(alice, "Alice plan")
    row = wait_for_row(alice, "Alice plan")
    assert (row["Owner"], row["Saved by"], row["Versions"]) == (ALICE, ALICE, "1")
    assert alice.get_by_role("button", name="Delete…").is_enabled()  # hers

    bob_context, bob = signed_in(browser, team_app, provider, BOB)
    assert f"Signed in as {BOB} · workspace team" in bob.locator("[data-testid=stSidebar]").inner_text()
    open_planner(bob, team_app.url)
    save_tab(bob)
    row = wait_for_row(bob, "Alice plan")
    assert (row["Owner"], row["Saved by"]) == (ALICE, ALICE)
    pick_saved(bob, "Alice plan")
    why = f"“Alice plan” belongs to {ALICE}; only its owner or an admin can change it"
    assert bob.get_by_role("button", name="Delete…").is_disabled()
    assert bob.get_by_role("button", name="Make this version current again").is_disabled()
    bob.get_by_text(f"Read-only for you: {why}").wait_for(timeout=10_000)
    # saving over her name is not offered either, and the page says why
    type_into(bob, "Name", "Alice plan")
    save_tab(bob)
    assert bob.get_by_role("button", name="Save", exact=True).is_disabled()
    bob.get_by_text(f"Saving is not possible: {why.rstrip('.')}.").wait_for(timeout=10_000)

    # he may copy it: the copy is his, and he may delete his copy
    type_into(bob, "Copy it as", "Bob copy")
    save_tab(bob)
    bob.get_by_role("button", name="Duplicate").click()
    bob.get_by_text("Copied “Alice plan” to “Bob copy”.").wait_for(timeout=30_000)
    settle(bob)
    save_tab(bob)
    row = wait_for_row(bob, "Bob copy")
    assert (row["Owner"], row["Saved by"]) == (BOB, BOB)
    assert bob.get_by_role("combobox", name="Saved scenario").input_value() == "Bob copy"
    assert bob.get_by_role("button", name="Delete…").is_enabled()

    # the store itself agrees (owners and authors as the provider named them)
    listing = {i.name: i for i in SQLiteScenarioStore(team_app.db).list(workspace="team")}
    assert {n: (i.owner, i.updated_by) for n, i in listing.items()} == {
        "Alice plan": (ALICE, ALICE),
        "Bob copy": (BOB, BOB),
    }
    for context in (alice_context, bob_context):
        context.close()


@browser_test
def test_signing_out_ends_the_session(team_app, provider, browser):
    context, page = signed_in(browser, team_app, provider, ALICE)
    assert USER_COOKIE in {c["name"] for c in context.cookies()}
    page.get_by_role("button", name="Sign out").click()
    # Streamlit sends the browser to the provider's end-session page, which sends it back to the atlas
    page.wait_for_url(f"{provider.url}/oauth2/end_session**", timeout=30_000)
    assert USER_COOKIE not in {c["name"] for c in context.cookies()}
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{team_app.url}/**", timeout=30_000)
    sign_in_page_only(page)
    page.reload()
    sign_in_page_only(page)
    page.goto(team_app.url + "/scenarios")
    sign_in_page_only(page)
    context.close()


def _payload(origin: str, email: str = "mallory@example.org") -> str:
    return json.dumps({"email": email, "sub": email, "is_logged_in": True, "origin": origin, "provider": "default"})


def _signed(secret: str, value: str) -> str:
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    return create_signed_value(secret, USER_COOKIE, value).decode("ascii")


FORGERIES = {
    "garbage": lambda app: "garbage-not-a-cookie",
    "unsigned claims": lambda app: _payload(app.url).replace('"', "").replace(" ", ""),
    "signed with another secret": lambda app: _signed("another-secret-" + "x" * 40, _payload(app.url)),
    "right secret, another site": lambda app: _signed(app.cookie_secret, _payload("http://evil.example")),
    "right secret, not JSON": lambda app: _signed(app.cookie_secret, "{not json"),
}


@browser_test
def test_a_forged_sign_in_cookie_gets_the_sign_in_page_not_an_error(team_app, browser):
    pages = {}
    for forgery, make in FORGERIES.items():  # each in a browser of its own, all at once
        context = browser.new_context(viewport=WIDE)
        context.add_cookies([{"name": USER_COOKIE, "value": make(team_app), "url": team_app.url}])
        pages[forgery] = context.new_page()
        pages[forgery].goto(team_app.url + "/scenarios")
    for forgery, page in pages.items():
        try:
            sign_in_page_only(page)
        except AssertionError as error:
            raise AssertionError(f"with a cookie forged as {forgery!r}: {error}") from error
        page.context.close()


def cookie_signed_in(browser, team_app: TeamApp, who: str):
    """A browser holding a sign-in cookie signed with the app's own secret for its own origin, as Streamlit
    writes one after a sign-in (quicker than the provider's round trip, for tests about something else)."""
    context = browser.new_context(viewport=WIDE)
    value = _signed(team_app.cookie_secret, _payload(team_app.url, who))
    context.add_cookies([{"name": USER_COOKIE, "value": value, "url": team_app.url}])
    return context, context.new_page()


@browser_test
def test_control_a_cookie_signed_with_the_apps_secret_for_its_origin_is_accepted(team_app, browser):
    """The control for the forgeries above: the same cookie, signed with the app's secret for its own origin,
    signs in, so the forgeries were refused for their signature or origin, not for their form."""
    context, page = cookie_signed_in(browser, team_app, CAROL)
    page.goto(team_app.url)
    page.get_by_text(f"Signed in as {CAROL} · workspace team").wait_for(timeout=60_000)
    context.close()


@browser_test
def test_after_saving_the_planner_stays_on_the_save_tab(team_app, browser):
    context, page = cookie_signed_in(browser, team_app, CAROL)
    open_planner(page, team_app.url)
    save_tab(page)
    type_into(page, "Name", "Carol plan")
    selected = page.get_by_role("tab", name="Save, open and share")
    assert selected.get_attribute("aria-selected") == "true"  # a rerun without a message keeps the tab
    page.locator(".st-key-scn_save").get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved “Carol plan” as version 1.").wait_for(timeout=30_000)
    settle(page)
    try:
        assert selected.get_attribute("aria-selected") == "true", "the planner went back to the Results tab"
    finally:
        context.close()


# --------------------------------------------------------------------------------------------
# Two replicas, one PostgreSQL database
# --------------------------------------------------------------------------------------------


@browser_test
def test_two_replicas_on_one_postgresql_database_see_each_others_saves(browser, tmp_path):
    from tests.pg_server import PostgresMissing, find_bindir, running_server

    try:
        find_bindir()
    except PostgresMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    with (
        running_server() as server,
        running_app(
            env=clean_env(ATLAS_STORE_URL=server.url(), ATLAS_SCENARIO_DB=str(tmp_path / "unused.sqlite")),
            log_path=tmp_path / "replica1.log",
        ) as one_url,
        running_app(
            env=clean_env(ATLAS_STORE_URL=server.url(), ATLAS_SCENARIO_DB=str(tmp_path / "unused.sqlite")),
            log_path=tmp_path / "replica2.log",
        ) as two_url,
    ):
        assert one_url != two_url
        context = browser.new_context(viewport=WIDE)
        one, two = context.new_page(), context.new_page()
        one.goto(one_url + "/scenarios")  # both replicas load the planner at once
        open_planner(two, two_url)
        save_tab(two)
        two.get_by_text("No saved scenarios yet.").wait_for(timeout=30_000)

        one.get_by_text("Cost by year.").first.wait_for(timeout=90_000)
        settle(one)
        save_as(one, "Shared plan")
        one_cash = cash(one)

        rerun(two)
        save_tab(two)
        row = wait_for_row(two, "Shared plan")
        assert (row["Owner"], row["Versions"]) == ("local", "1")
        # replica 2 opens it, moves it to Kent and saves version 2; replica 1 lists that at its next rerun
        two.locator(".st-key-scn_open").get_by_role("button", name="Open", exact=True).click()
        two.get_by_text("Opened “Shared plan”.").wait_for(timeout=30_000)
        settle(two)
        assert cash(two) == one_cash
        force = two.get_by_role("combobox", name="Force area")
        force.click()
        force.fill("Kent")
        two.get_by_role("option", name="Kent", exact=True).click()
        settle(two)
        assert cash(two) != one_cash
        save_as(two, "Shared plan")
        two.get_by_text("Saved “Shared plan” as version 2.").wait_for(timeout=10_000)

        rerun(one)
        save_tab(one)
        for _ in range(20):
            if wait_for_row(one, "Shared plan")["Versions"] == "2":
                break
            one.wait_for_timeout(500)
        assert wait_for_row(one, "Shared plan")["Versions"] == "2"
        versions = open_store({"ATLAS_STORE_URL": server.url()}).versions("Shared plan")
        assert [v.version for v in versions] == [1, 2]
        assert not (tmp_path / "unused.sqlite").exists()  # both replicas used the server, not a file
        context.close()


# --------------------------------------------------------------------------------------------
# Public mode: nothing on the server
# --------------------------------------------------------------------------------------------

PAGES = [  # the planner last: the test goes on there
    ("/?force=E23000006", "Demand beside provision"),
    ("/lottery?q=SO14", "The postcode lottery in numbers"),
    ("/briefing?force=E23000006", "Services listed in the briefing"),
    ("/evidence", "Upload an edited register"),
    ("/methods", "How a force area is classed"),
    ("/scenarios", "Cost by year."),
]


@browser_test
def test_a_public_atlas_writes_nothing_on_every_page_and_share_links_carry_the_scenario(browser, tmp_path):
    empty = tmp_path / "store"
    empty.mkdir()
    kent = with_deployments(load_preset("hampshire_masp_like"), [KENT])
    token = share_token(kent)
    with running_app(
        env=clean_env(ATLAS_MODE="public", ATLAS_SCENARIO_DB=str(empty / "scenarios.sqlite")),
        log_path=tmp_path / "public.log",
    ) as url:
        context = browser.new_context(viewport=WIDE)
        outside = record_outside_requests(context, url)
        page = context.new_page()
        for path, ready in PAGES:
            page.goto(url + path)
            page.get_by_text(ready).first.wait_for(timeout=90_000)
            settle(page)
            assert page.locator("[data-testid=stException]").count() == 0, path
            assert "Sign in" not in page.locator("[data-testid=stSidebar]").inner_text()

        # the planner: no Save, and it says why; what it offers writes nothing either
        default_cash = cash(page)
        save_tab(page)
        assert "keeps nothing on its server" in main_text(page)
        assert page.get_by_role("button", name="Save", exact=True).count() == 0
        assert page.get_by_role("heading", name="Saved scenarios").count() == 0
        page.get_by_role("tab", name="Compare scenarios").click()
        page.get_by_role("button", name="Add the scenario on screen").click()
        page.get_by_text("to the comparison (1 of 4)").wait_for(timeout=30_000)
        settle(page)
        save_tab(page)
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "kent.yaml", "mimeType": "application/x-yaml", "buffer": _yaml(kent)}]
        )
        page.get_by_text("Opened kent.yaml").wait_for(timeout=30_000)
        settle(page)

        # a share link opens the scenario it carries, with the core's totals
        open_planner(page, url, f"?scenario={token}")
        page.get_by_text(f"Opened “{kent.name}” from the link.").wait_for(timeout=30_000)
        assert cash(page) == core_cash(kent) != default_cash

        # a link cut short or changed: a clear message, and the default preset stays
        broken = {
            "cut short": token[: len(token) // 2],
            "changed": token[:40] + ("A" if token[40] != "A" else "B") + token[41:],
            "not ours": "x1." + token[3:],
        }
        opened = {}
        for how, bad in broken.items():  # all at once
            opened[how] = context.new_page()
            opened[how].goto(f"{url}/scenarios?scenario={bad}")
        for how, fresh in opened.items():
            fresh.get_by_text("Cost by year.").first.wait_for(timeout=90_000)
            settle(fresh)
            message = fresh.locator("[data-testid=stAlertContentError]").first
            text = message.inner_text()
            assert "share link" in text and "The scenario on screen is the default preset." in text, (how, text)
            assert cash(fresh) == default_cash, how
            assert fresh.locator("[data-testid=stException]").count() == 0
            fresh.close()
        assert outside == []
        context.close()
    assert list(empty.iterdir()) == [], "a public atlas wrote to the store's folder"


def _yaml(scenario) -> bytes:
    from coverage.planner.schema import scenario_to_yaml

    return scenario_to_yaml(scenario).encode("utf-8")


# --------------------------------------------------------------------------------------------
# AppTest: every planner button in public mode; the store's faults
# --------------------------------------------------------------------------------------------

TIMEOUT = 120


def planner_apptest() -> AppTest:
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/scenarios.py")
    return clean(at.run())


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def gen_key(at: AppTest, name: str) -> str:
    return f"scn_{name}_{at.session_state['scn_state'].generation}"


def at_cash(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == CASH)


def at_texts(at: AppTest) -> str:
    return "\n".join(x.value for x in [*at.markdown, *at.caption, *at.info, *at.error, *at.success, *at.warning])


@pytest.fixture
def settings(monkeypatch):
    for name in ATLAS_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_public_mode_every_planner_button_writes_nothing(settings, tmp_path):
    from ui import access

    empty = tmp_path / "store"
    empty.mkdir()
    settings.setenv("ATLAS_MODE", "public")
    settings.setenv("ATLAS_SCENARIO_DB", str(empty / "scenarios.sqlite"))
    assert access.store() is None
    at = planner_apptest()
    assert "keeps nothing on its server" in at_texts(at)
    assert not [b for b in at.button if b.key == "scn_save"]
    # Click every button the page shows, each once; a button that went away when another was clicked (Clear
    # after Remove) is brought back by adding the scenario on screen to the comparison again.
    clicked: list[str] = []
    seen: set[str] = set()
    for _ in range(40):
        shown = [b for b in at.button if not b.disabled]
        seen |= {b.key for b in shown}
        todo = [b for b in shown if b.key not in clicked]
        if not todo and seen - set(clicked):
            todo = [b for b in shown if b.key == "scn_compare_add"]
        elif not todo:
            break
        button = todo[0]
        if button.key not in clicked:
            clicked.append(button.key)
        clean(button.click().run())
    assert {"scn_compare_add", "scn_compare_remove_0", "scn_compare_clear"} <= set(clicked), clicked
    assert set(clicked) == seen, seen - set(clicked)
    assert list(empty.iterdir()) == [], "a public atlas wrote to the store's folder"
    assert access.store() is None


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root (who ignores permission bits): ``chattr +i`` then."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file read-only for root here (chattr +i: {made.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_the_store_file_deleted_while_the_app_runs_is_reported_and_not_made_again(settings, tmp_path):
    db = tmp_path / "store" / "scenarios.sqlite"
    settings.setenv("ATLAS_SCENARIO_DB", str(db))
    at = planner_apptest()
    at.text_input(key=gen_key(at, "save_name")).input("Plan A").run()
    clean(at.button(key="scn_save").click().run())
    assert "Saved “Plan A” as version 1." in at.success[0].value
    at.text_input(key=gen_key(at, "save_name")).input("Plan B").run()  # the Save button is offered
    on_screen, before = dict(at.session_state["scn_state"].scenario), at_cash(at)

    db.unlink()
    clean(at.button(key="scn_save").click().run())
    errors = "\n".join(e.value for e in at.error)
    assert f"Not saved: the scenario store file {escape_markdown(str(db))} has disappeared" in errors, errors
    assert "no new, empty store was made in its place" in errors
    assert "Saved “Plan B”" not in at_texts(at)
    assert at_cash(at) == before and dict(at.session_state["scn_state"].scenario) == on_screen
    # from now on the page says the store cannot be read, and does not offer saving
    assert "The scenario store cannot be read: the scenario store file" in errors
    assert at.button(key="scn_save").disabled
    assert not db.exists() and list(db.parent.iterdir()) == []


def test_a_read_only_store_file_refuses_saving_and_still_lists_and_opens(settings, tmp_path):
    db = tmp_path / "store" / "scenarios.sqlite"
    settings.setenv("ATLAS_SCENARIO_DB", str(db))
    SQLiteScenarioStore(db).save("Plan A", load_preset("advocacy_only"))
    at = planner_apptest()
    at.text_input(key=gen_key(at, "save_name")).input("Plan B").run()  # offered while the file is writable
    assert not at.button(key="scn_save").disabled
    content = db.read_bytes()
    with read_only(db):
        clean(at.button(key="scn_save").click().run())
        errors = "\n".join(e.value for e in at.error)
        assert f"Not saved: the scenario store file {escape_markdown(str(db))} is read-only" in errors, errors
        # the next run no longer offers Save, and says why; the list and Open still work
        assert at.button(key="scn_save").disabled
        captions = "\n".join(c.value for c in at.caption)
        assert f"Saving is not possible: the scenario store file {escape_markdown(str(db))} is read-only" in captions
        listing = next(d.value for d in at.dataframe if "Owner" in d.value.columns)
        assert list(listing["Name"]) == ["Plan A"]
        at.selectbox(key="scn_saved_pick").set_value("Plan A").run()
        clean(at.button(key="scn_open").click().run())
        assert "Opened “Plan A”." in at.success[0].value
        assert at_cash(at) == core_cash(load_preset("advocacy_only"))
    assert db.read_bytes() == content


def test_a_read_only_store_does_not_suggest_saving_under_a_new_name(settings, tmp_path):
    db = tmp_path / "store" / "scenarios.sqlite"
    settings.setenv("ATLAS_SCENARIO_DB", str(db))
    SQLiteScenarioStore(db).save("Plan A", load_preset("advocacy_only"))
    with read_only(db):
        at = planner_apptest()
        at.text_input(key=gen_key(at, "save_name")).input("Plan B").run()
        captions = "\n".join(c.value for c in at.caption)
        assert "is read-only" in captions
        assert "Save it under a new name instead" not in captions


def test_the_runtime_requirements_hold_what_team_sign_in_needs():
    from packaging.requirements import Requirement

    lines = (paths.REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    names = {Requirement(line).name.lower() for line in lines if line.strip() and not line.startswith(("#", "-"))}
    assert {"authlib", "httpx"} <= names, sorted(names)
