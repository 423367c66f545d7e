"""The atlas's words in plain English, for the glossary one click away on every page.

Each term is named exactly as the tables, map and briefings name it (``coverage.vocabulary``); the
meanings are the ones the register's classing rules apply (``model.register.PROVISION_RULES``).
"""

from __future__ import annotations

from coverage.vocabulary import PROVISION_CLASS, SERVICE_TYPE

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        SERVICE_TYPE["multi_agency_unit"].name,
        "Police, probation, health (clinical psychologists) and specialist advocates work each stalking case "
        "together, with the victim and the stalker, as in the three pilot units of 2018 (the Met's Stalking "
        "Threat Assessment Centre, Hampshire and Cheshire).",
    ),
    (
        SERVICE_TYPE["stalking_clinic"].name,
        "Professionals from several agencies meet regularly to review stalking cases and advise on them, "
        "without a standing joint team.",
    ),
    (
        SERVICE_TYPE["advocacy"].name,
        "An independent stalking advocate supports victims: safety planning, and help through the police and "
        "court process.",
    ),
    (
        SERVICE_TYPE["perpetrator_programme"].name,
        "Work with the person who stalks, to change their behaviour (for example a clinical intervention).",
    ),
    (
        SERVICE_TYPE["police_team"].name,
        "Police officers or staff dedicated to stalking (a team, a coordinator or an adviser), without the "
        "partner agencies of a multi-agency unit.",
    ),
    (
        PROVISION_CLASS["national_only"].label,
        "The search found no local specialist stalking service in the area; the national helpline and national "
        "advocacy still serve it. Nothing found is not proof that nothing exists.",
    ),
    (
        PROVISION_CLASS["unknown"].label,
        "The register has no record of the area either way: unknown is not the same as none.",
    ),
)
