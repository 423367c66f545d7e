"""The ceiling of bench/map.py's comparison: a folium map shown the usual way, with streamlit-folium.

    python bench/map.py      # runs it beside the atlas and a bare page (see bench/map.py)

What a first folium app looks like: the ONS boundary file as published (read on every run), one
GeoJson layer with a tooltip, and ``st_folium`` (an iframe with its own copy of the component's
front end). Two changes only, so that it can run where the bench runs: no basemap, and Leaflet from
the app's own static copy instead of a CDN (the bench's browser reaches no host but this machine).
"""

from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

HERE = Path(__file__).resolve().parent
# The raw ONS download when the checkout sits beside ../shared, else the atlas's simplified copy.
RAW = HERE.parent.parent / "shared" / "data" / "boundaries" / "police_force_areas_dec2023_bsc.geojson"
SHIPPED = HERE.parent / "data" / "boundaries" / "pfa_dec2023_simplified.geojson"
BOUNDARIES = RAW if RAW.exists() else SHIPPED
NAME = "PFA23NM" if BOUNDARIES == RAW else "name"

st.title("Police force areas in England and Wales")
fmap = folium.Map(location=[52.6, -1.9], zoom_start=6, tiles=None)
fmap.default_js = [("leaflet", "/app/static/vendor/leaflet/leaflet.js")]
fmap.default_css = [("leaflet_css", "/app/static/vendor/leaflet/leaflet.css")]
folium.GeoJson(str(BOUNDARIES), name="Police force areas", tooltip=folium.GeoJsonTooltip([NAME])).add_to(fmap)
st_folium(fmap, height=620, use_container_width=True)
