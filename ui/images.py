"""Pictures shown on a page: sized so that Streamlit shows them as they are."""

from __future__ import annotations

import io

# The widest picture Streamlit shows as it is (streamlit/elements/lib/image_utils.py,
# MAXIMUM_CONTENT_WIDTH, in 1.67); a wider one it shrinks and encodes again on every run, which for the
# briefing's four pictures was a quarter of a second of each run.
SCREEN_IMAGE_PX = 1460


def fit_for_screen(png: bytes, max_px: int = SCREEN_IMAGE_PX) -> bytes:
    """``png`` at most ``max_px`` wide (a downloadable PNG is drawn at twice its size), as PNG bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        if image.width <= max_px:
            return png
        height = round(image.height * max_px / image.width)
        out = io.BytesIO()
        image.resize((max_px, height), resample=Image.Resampling.LANCZOS).save(out, format="PNG")
        return out.getvalue()
