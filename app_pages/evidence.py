"""Edit the evidence: download the register, upload an edited copy, check it, see what changed,
and use it for this session only. The shipped register is never overwritten."""

from __future__ import annotations

import streamlit as st

from coverage.errors import InputError
from coverage.model.register import MAX_BYTES, MAX_FIELD_CHARS, MAX_ROWS, export_register_csv
from ui import data, session
from ui.markdown import escape_markdown

current = data.register()

st.title("Edit the evidence")
st.markdown(
    "Download the service register, correct or add rows in a spreadsheet, and upload it here. The atlas "
    "checks every row (force codes, source ids, dates, allowed values) and shows what changed before it "
    "uses your copy — **for your session only**. The published register is never changed by an upload; "
    "to correct it for everyone, send the file and its sources to the maintainers."
)

if data.register_name():
    st.button("Go back to the published register", on_click=session.clear_register, key="reset_register")

st.download_button(
    "Download the register in use (CSV)",
    data=lambda: export_register_csv(current),  # written when asked for, not on every rerun
    file_name="stalking_service_register.csv",
    mime="text/csv",
    key="download_register",
    on_click="ignore",
)
st.caption(
    "Columns: " + ", ".join(current.columns) + ". Separate several force codes or source ids with ';'. "
    "National services use force code ALL."
)

LIMIT_MB = MAX_BYTES // 1_000_000  # the most the register reader accepts
session.prepare_worker()
upload = st.file_uploader(
    "Upload an edited register (CSV, UTF-8)", type=["csv"], key="evidence_upload", max_upload_size=LIMIT_MB
)
st.caption(
    f"A file over {LIMIT_MB} MB, with more than {MAX_ROWS:,} rows or with a cell longer than {MAX_FIELD_CHARS:,} "
    "characters is refused; the published register is under 100 KB."
)
if upload is not None:
    try:
        # Checked once per upload (not again on each click while it sits in the box), off the page's thread.
        checked, changes, digest = session.checked_register_upload(upload.name, upload.getvalue())
    except InputError as error:
        st.error(f"{escape_markdown(upload.name)} cannot be used: the atlas keeps using the register you had.")
        st.dataframe(session.problems_table(error), hide_index=True, width="stretch")
    else:
        edited = checked.register
        counts = changes["change"].value_counts() if not changes.empty else {}
        added, removed = int(counts.get("added", 0)), int(counts.get("removed", 0))
        changed = changes.loc[changes["change"] == "changed", "service_id"].nunique() if not changes.empty else 0
        st.success(
            f"{escape_markdown(upload.name)}: {len(edited)} rows, all valid. {added} added, {changed} changed, {removed} removed."
        )
        suspicious = checked.formula_cells
        if not suspicious.empty:
            st.warning(
                f"{len(suspicious)} cell(s) begin with = + - or @. They are kept as plain text and neutralised in "
                "every download, so a spreadsheet will not run them."
            )
            st.dataframe(suspicious, hide_index=True, width="stretch")
        if changes.empty:
            st.markdown("No differences from the register in use.")
        else:
            st.markdown("**What changed** (compared with the register in use)")
            st.dataframe(changes, hide_index=True, width="stretch")
            st.button(
                "Use this register for my session",
                key="use_register",
                on_click=session.use_register,
                args=(edited, upload.name, digest),
            )
