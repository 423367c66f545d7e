"""Streamlit glue shared by the pages: cached loaders and the common sidebar. Thin by design."""
