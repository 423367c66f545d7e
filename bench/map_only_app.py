"""The floor of the inline map: bench/bare_page.py's title and the atlas's own map, with nothing else.

    python bench/map.py      # runs it beside the atlas, the naive folium app and the bare page

What the Components v2 map costs by itself (Streamlit's code for the component, Leaflet, folium's
script and the drawing), with none of the Map page's other elements competing for the browser: the
difference between the atlas and this app is what the rest of the Map page costs.
"""

import sys
from pathlib import Path

import streamlit as st

# bench/map.py runs this from a scratch folder; the atlas's ui package sits in the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coverage.outputs.compiled_maps import PROVISION_MAP
from ui import data, inline_map

st.set_page_config(layout="wide")
st.title("Police force areas in England and Wales")
inline_map.inline_map(
    inline_map.compiled_map(PROVISION_MAP, data.atlas().boundaries, data.SHIPPED),
    key="provision_map",
    selected=None,
    basemap=False,
    on_click=lambda: None,
)
