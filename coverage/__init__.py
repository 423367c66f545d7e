"""Stalking Provision Atlas core: pure Python, no Streamlit.

Pages and the command line (`python -m coverage`) both call into this package.
"""
