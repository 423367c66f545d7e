"""Build ``data/services/contacts.csv``: how to reach the services a Postcode lottery answer names.

Every number and web address below was read on the service's own published page, in the stored
copies of public pages searched on ``CHECKED`` (2026-12-01), and each row cites that page: title,
publisher, address and the date the page gives (or "undated"). ``evidence`` quotes the words read,
so a reviewer can find them again; it is not shipped. Nothing here was typed from memory: where no
stored page of the service itself gave a number, the row has a web address only and says so
(``NOT_FOUND`` lists them), even when third-party pages print a number.

What the rows cover:

- England and Wales: 999 and 101, and the national services of the register (``force_codes`` ALL;
  the Home Office funding stream is not a service a victim can contact);
- Scotland, Northern Ireland, the Isle of Man, Jersey and the Bailiwick of Guernsey: their police and
  the support services that cover them, never an England and Wales service.

``write_contacts(data_dir)`` is what ``atlas build-data`` calls; the run-time reader and its checks
are ``coverage.model.contacts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage.model.contacts import CONTACT_COLUMNS, CONTACTS_CSV, ENGLAND_AND_WALES, parse_contacts

CHECKED = "2026-12-01"


@dataclass(frozen=True)
class _Page:
    """A stored public page a contact was read on."""

    title: str
    publisher: str
    url: str
    date: str  # as the page gives it, or "undated"


@dataclass(frozen=True)
class _Row:
    contact_id: str
    region: str
    kind: str
    name: str
    page: _Page
    evidence: str  # the words read on the page (not shipped)
    phone: str = ""
    url: str = ""
    hours: str = ""
    note: str = ""
    service_id: str = ""


# ---- the pages ----------------------------------------------------------------------------

HOME_OFFICE_101 = _Page(
    "101 - Police non-emergency number",
    "Home Office (archived by The National Archives, 16 Aug 2012)",
    "https://webarchive.nationalarchives.gov.uk/20120816233649/http:/www.homeoffice.gov.uk/police/101-police-non-emergency/",
    "2012",
)
SOUTH_YORKSHIRE_STALKING = _Page(
    "Stalking and Harassment",
    "South Yorkshire Police",
    "https://www.southyorkshire.police.uk/find-out/crime-prevention-advice/stalking-and-harassment/",
    "22 Mar 2023",
)
SLT_PODCAST = _Page(
    "Should I Delete That? podcast",
    "Suzy Lamplugh Trust",
    "https://www.suzylamplugh.org/should-i-delete-that-podcast",
    "2023 (on the episode released 31 Jul 2023)",
)
PALADIN_GET_SUPPORT = _Page(
    "Get Support",
    "Paladin National Stalking Advocacy Service",
    "https://www.paladinservice.co.uk/get-support",
    "undated (page created 9 Jan 2022)",
)
ALICE_RUGGLES_NEWS = _Page("News", "Alice Ruggles Trust", "http://alicerugglestrust.org/index.php/news", "c. 2018")
POLICE_SCOTLAND_STALKING = _Page(
    "Stalking", "Police Scotland", "https://scotland.police.uk/advice-and-information/stalking", "undated"
)
ACTION_AGAINST_STALKING_HOME = _Page(
    "Action Against Stalking (home page)",
    "Action Against Stalking",
    "https://www.actionagainststalking.org/",
    "undated",
)
VSS_AWARENESS_WEEK = _Page(
    "Victims Awareness Week 2021",
    "Victim Support Scotland",
    "https://victimsupport.scot/victims-awareness-week-2021",
    "Feb 2021",
)
MYGOV_STALKING = _Page(
    "Stalking: support", "mygov.scot (Scottish Government)", "https://mygov.scot/victim-support-stalking", "undated"
)
PSNI_CALL_MANAGEMENT = _Page(
    "Call Management",
    "Police Service of Northern Ireland",
    "https://www.psni.police.uk/inside-psni/our-departments/district-policing-command/call-management/",
    "undated",
)
VSNI_HISTORY = _Page(
    "A History of Victim Support NI", "Victim Support NI", "https://www.victimsupportni.com/ourhistory", "undated"
)
IOM_WHAT_NEXT = _Page(
    "What happens next?", "Isle of Man Constabulary", "https://www.iompolice.im/report-it/what-happens-next/", "undated"
)
JERSEY_COMMUNITY_POLICING = _Page(
    "Community Policing Team",
    "States of Jersey Police",
    "https://jersey.police.uk/your-community/community-policing-team/",
    "undated (about the team from December 2020)",
)
GUERNSEY_NPIS = _Page(
    "Reintroduction of NPIs for Bailiwick Law Enforcement",
    "Guernsey Police (Bailiwick Law Enforcement)",
    "https://guernsey.police.uk/article/184758/Reintroduction-of-NPIs-for-Bailiwick-Law-Enforcement",
    "undated (COVID-19 measures)",
)

# ---- the contacts -------------------------------------------------------------------------

ROWS: tuple[_Row, ...] = (
    # England and Wales
    _Row(
        "ew-police-emergency",
        ENGLAND_AND_WALES,
        "emergency",
        "Police",
        SOUTH_YORKSHIRE_STALKING,
        "To report stalking or harassment to police, call 101 or 999 in an emergency",
        phone="999",
        note="If you are in danger now.",
    ),
    _Row(
        "ew-police-101",
        ENGLAND_AND_WALES,
        "police",
        "Police non-emergency number",
        HOME_OFFICE_101,
        "101 is the number to call when you want to contact your local police – when it's less urgent than "
        "999 … When a member of the public calls 101, they are connected to their local police force.",
        phone="101",
        note="Connects you to your local police force.",
    ),
    _Row(
        "ew-national-stalking-helpline",
        ENGLAND_AND_WALES,
        "stalking_service",
        "National Stalking Helpline",
        SLT_PODCAST,
        "you can get in touch with the National Stalking Helpline at 0808 802 0300",
        phone="0808 802 0300",
        url="https://www.suzylamplugh.org/",
        note="Run by the Suzy Lamplugh Trust.",
        service_id="ALL-helpline-1",
    ),
    _Row(
        "ew-paladin",
        ENGLAND_AND_WALES,
        "stalking_service",
        "Paladin National Stalking Advocacy Service",
        PALADIN_GET_SUPPORT,
        "Paladin provides advocacy support to high risk victims of stalking … Survivors can contact us "
        "directly or be referred via professionals. If you are in danger call 999!",
        url="https://www.paladinservice.co.uk/get-support",
        note=(
            "Advocacy for people at high risk from a stalker; you can contact Paladin yourself or be referred. "
            "No phone number was found on Paladin's own pages."
        ),
        service_id="ALL-advocacy-1",
    ),
    _Row(
        "ew-alice-ruggles-trust",
        ENGLAND_AND_WALES,
        "stalking_service",
        "Alice Ruggles Trust",
        ALICE_RUGGLES_NEWS,
        "On this page you will find current and archived news items relating to the Trust's mission and work.",
        url="http://alicerugglestrust.org/",
        note="Education about stalking for young people and professionals; not a helpline.",
        service_id="ALL-education-1",
    ),
    # Scotland
    _Row(
        "scotland-police-emergency",
        "Scotland",
        "emergency",
        "Police Scotland",
        POLICE_SCOTLAND_STALKING,
        "please report it to Police Scotland … by phoning 101, reporting online or calling 999 if it is an emergency",
        phone="999",
        note="If you are in danger now.",
    ),
    _Row(
        "scotland-police-101",
        "Scotland",
        "police",
        "Police Scotland",
        POLICE_SCOTLAND_STALKING,
        "You can do this at your local police station, by phoning 101, reporting online … You can access the "
        "online Stalking Form to report an incident of stalking that has occurred within Scotland.",
        phone="101",
        url="https://scotland.police.uk/advice-and-information/stalking",
        note="Or report stalking online with the form on this page.",
    ),
    _Row(
        "scotland-action-against-stalking",
        "Scotland",
        "stalking_service",
        "Action Against Stalking",
        ACTION_AGAINST_STALKING_HOME,
        "We provide a unique throughcare support service for victims of stalking.",
        url="https://www.actionagainststalking.org/",
        note="A Scottish charity: support for victims of stalking. No phone number was found on its own pages.",
    ),
    _Row(
        "scotland-victim-support",
        "Scotland",
        "victim_support",
        "Victim Support Scotland",
        VSS_AWARENESS_WEEK,
        "Our support is free, confidential and open to everyone affected by crime. You don't need to report the "
        "crime, to receive our help.",
        url="https://victimsupport.scot/",
        note=(
            "Free, confidential support for anyone affected by crime, reported or not. No phone number was "
            "found on its own pages."
        ),
    ),
    _Row(
        "scotland-mygov-stalking",
        "Scotland",
        "guide",
        "Stalking: support (mygov.scot)",
        MYGOV_STALKING,
        "There are a number of organisations you can contact for practical advice and support.",
        url="https://mygov.scot/victim-support-stalking",
        note="The Scottish Government's list of organisations that help people who are being stalked.",
    ),
    # Northern Ireland
    _Row(
        "ni-police-emergency",
        "Northern Ireland",
        "emergency",
        "Police Service of Northern Ireland (PSNI)",
        PSNI_CALL_MANAGEMENT,
        "You can phone the police on 999, if it is an emergency or 101 for all non-emergency matters.",
        phone="999",
        note="If you are in danger now.",
    ),
    _Row(
        "ni-police-101",
        "Northern Ireland",
        "police",
        "Police Service of Northern Ireland (PSNI)",
        PSNI_CALL_MANAGEMENT,
        "You can phone the police on 999, if it is an emergency or 101 for all non-emergency matters.",
        phone="101",
        url="https://www.psni.police.uk/",
    ),
    _Row(
        "ni-victim-support",
        "Northern Ireland",
        "victim_support",
        "Victim Support NI",
        VSNI_HISTORY,
        "A History of Victim Support NI … Volunteers visit victims in their homes … to see if they can offer any help.",
        url="https://www.victimsupportni.com/",
        note="Support for victims and witnesses of crime in Northern Ireland. No phone number was found on its own pages.",
    ),
    # Isle of Man
    _Row(
        "iom-police",
        "Isle of Man",
        "police",
        "Isle of Man Constabulary",
        IOM_WHAT_NEXT,
        "If you decide to contact the police they will come to you as soon as possible.",
        url="https://www.iompolice.im/",
        note="No phone number was found on the Constabulary's own pages: see its website.",
    ),
    # Jersey
    _Row(
        "jersey-police-emergency",
        "Jersey",
        "emergency",
        "States of Jersey Police",
        JERSEY_COMMUNITY_POLICING,
        "calls should still be directed to 612612 or 999 in the case of an emergency",
        phone="999",
        note="If you are in danger now.",
    ),
    _Row(
        "jersey-police",
        "Jersey",
        "police",
        "States of Jersey Police",
        JERSEY_COMMUNITY_POLICING,
        "calls should still be directed to 612612 or 999 in the case of an emergency",
        phone="612612",
        url="https://jersey.police.uk/",
        note="A Jersey number, as the police publish it.",
    ),
    # The Bailiwick of Guernsey (Guernsey, Alderney, Sark, Herm)
    _Row(
        "guernsey-police-emergency",
        "Guernsey",
        "emergency",
        "Guernsey Police",
        GUERNSEY_NPIS,
        "999 Emergency 222222 Non Emergency",
        phone="999",
        note="If you are in danger now.",
    ),
    _Row(
        "guernsey-police",
        "Guernsey",
        "police",
        "Guernsey Police",
        GUERNSEY_NPIS,
        "999 Emergency 222222 Non Emergency",
        phone="222222",
        url="https://guernsey.police.uk/",
        note="The non-emergency number, as the police publish it.",
    ),
)

# Services shown by web address only, and why: recorded here so the gap stays visible.
NOT_FOUND: dict[str, str] = {
    "ew-paladin": "no stored page of Paladin's own gave a phone number (council and school pages print one)",
    "ew-alice-ruggles-trust": "an education charity, not a helpline; no number was looked for",
    "scotland-action-against-stalking": "no number on the stored pages of Action Against Stalking",
    "scotland-victim-support": "the stored pages mention a free helpline but not its number (mygov.scot prints one)",
    "ni-victim-support": "no number on the stored pages of Victim Support NI",
    "scotland-mygov-stalking": "a Scottish Government list of services, not a service: no number was looked for",
    "iom-police": "no number, not even 999, on the stored pages of the Isle of Man Constabulary",
}


def build_contacts() -> pd.DataFrame:
    """The contacts table, checked by the run-time reader's own rules before it is written."""
    frame = pd.DataFrame(
        [
            {
                "contact_id": row.contact_id,
                "region": row.region,
                "kind": row.kind,
                "service_id": row.service_id,
                "name": row.name,
                "phone": row.phone,
                "url": row.url,
                "hours": row.hours,
                "note": row.note,
                "source_title": row.page.title,
                "source_publisher": row.page.publisher,
                "source_url": row.page.url,
                "source_date": row.page.date,
                "checked": CHECKED,
            }
            for row in ROWS
        ],
        columns=list(CONTACT_COLUMNS),
    )
    parse_contacts(frame.to_csv(index=False, lineterminator="\n"), name="contacts (build)")
    return frame


def write_contacts(data_dir: Path | str) -> Path:
    """Write ``services/contacts.csv`` under ``data_dir`` (the build's staging folder or ``data/``)."""
    path = Path(data_dir) / CONTACTS_CSV
    path.parent.mkdir(parents=True, exist_ok=True)
    build_contacts().to_csv(path, index=False, lineterminator="\n")
    return path
