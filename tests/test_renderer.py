"""Charts are drawn by vl-convert in a process of its own, so that drawing one visitor's briefing does
not stop every other thread of the server (vl-convert holds the GIL while it draws); a process that dies
is replaced, a drawing that never ends is stopped, and where no process can start, charts are drawn in
the caller's."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from coverage.outputs import renderer

# Enough marks to keep vl-convert busy for a good fraction of a second at scale 3.
BUSY_SPEC = {
    "data": {"sequence": {"start": 0, "stop": 20000, "as": "x"}},
    "transform": [{"calculate": "sin(datum.x / 50)", "as": "y"}],
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}},
    "width": 800,
    "height": 500,
}
SMALL_SPEC = {"data": {"values": [{"a": "Cheshire <b>"}]}, "mark": "text", "encoding": {"text": {"field": "a"}}}


def _ticks_while(draw) -> int:
    """How many times another thread of this process woke while ``draw()`` ran."""
    ticks, stop = [0], threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks[0] += 1
            stop.wait(0.001)

    ticker = threading.Thread(target=tick)
    draw()  # once first, so start-up (the process, vl-convert's engine) is not what is measured
    ticker.start()
    try:
        ticks[0] = 0
        draw()
        return ticks[0]
    finally:
        stop.set()
        ticker.join()


def test_the_rest_of_the_server_runs_while_a_chart_is_drawn():
    drawing = renderer._DrawingProcess()
    ticks = _ticks_while(lambda: drawing.call("vegalite_to_png", BUSY_SPEC, scale=3))
    assert drawing.pid() not in (None, os.getpid())
    drawing.stop()
    assert ticks >= 10, f"another thread woke only {ticks} times while a chart was drawn"


def test_drawn_in_the_callers_process_vl_convert_stops_every_other_thread():
    # Why the drawing process exists. If vl-convert ever releases the GIL this fails, and the process
    # can go.
    drawing = renderer._DrawingProcess()
    drawing.in_process = True
    assert _ticks_while(lambda: drawing.call("vegalite_to_png", BUSY_SPEC, scale=3)) <= 3


def test_a_drawing_process_that_dies_is_replaced():
    drawing = renderer._DrawingProcess()
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    first = drawing.pid()
    os.kill(first, signal.SIGKILL)
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    assert drawing.pid() not in (None, first) and not drawing.in_process
    drawing.stop()


def test_a_drawing_process_killed_mid_drawing_is_replaced_and_the_chart_drawn():
    drawing = renderer._DrawingProcess()
    drawing.call("vegalite_to_svg", SMALL_SPEC)
    first = drawing.pid()
    result: list = []
    drawer = threading.Thread(target=lambda: result.append(drawing.call("vegalite_to_png", BUSY_SPEC, scale=3)))
    drawer.start()
    time.sleep(0.1)  # the drawing is under way (it takes several tenths of a second)
    os.kill(first, signal.SIGKILL)
    drawer.join(timeout=60)
    assert result and result[0].startswith(b"\x89PNG")
    assert drawing.pid() not in (None, first) and not drawing.in_process
    drawing.stop()


def test_starting_it_never_waits_and_where_it_cannot_start_charts_are_drawn_here(monkeypatch):
    drawing = renderer._DrawingProcess()
    monkeypatch.setattr(renderer.sys, "executable", "/nonexistent/python")
    drawing.start()  # as app.py does when the Briefing page is chosen: no error reaches the page
    assert drawing.in_process
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)


def test_a_drawing_that_does_not_finish_in_time_is_stopped_and_the_next_one_is_drawn(monkeypatch):
    drawing = renderer._DrawingProcess()
    drawing.call("vegalite_to_svg", SMALL_SPEC)
    stuck = drawing._worker.process
    monkeypatch.setattr(renderer, "DRAW_TIMEOUT_S", 0.001)
    with pytest.raises(renderer.DrawingError, match="to draw and was stopped"):
        drawing.call("vegalite_to_png", BUSY_SPEC, scale=3)
    assert stuck.poll() is not None  # stopped, not left drawing
    monkeypatch.undo()
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    drawing.stop()


def test_where_no_drawing_process_can_start_charts_are_drawn_in_the_callers(monkeypatch):
    drawing = renderer._DrawingProcess()
    monkeypatch.setattr(renderer.sys, "executable", "/bin/false")  # a process that exits as it starts
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    assert drawing.in_process and drawing.pid() is None


def test_where_no_process_can_be_started_at_all_charts_are_drawn_in_the_callers(monkeypatch):
    drawing = renderer._DrawingProcess()
    monkeypatch.setattr(renderer.sys, "executable", "/nonexistent/python")  # Popen itself fails
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    assert drawing.in_process and drawing.pid() is None


def test_a_chart_vl_convert_refuses_raises_its_error_here_and_the_process_draws_on():
    drawing = renderer._DrawingProcess()
    with pytest.raises(ValueError):
        drawing.call("vegalite_to_svg", {"mark": "no-such-mark", "data": {"values": []}})
    with pytest.raises(ValueError, match="not a drawing"):
        drawing.call("__import__", "os")
    assert "Cheshire &lt;b&gt;" in drawing.call("vegalite_to_svg", SMALL_SPEC)
    drawing.stop()


def test_the_module_functions_give_svg_and_png():
    svg = renderer.vegalite_to_svg(SMALL_SPEC)
    assert svg.startswith("<svg") and "Cheshire &lt;b&gt;" in svg
    assert renderer.svg_to_png(svg, scale=2).startswith(b"\x89PNG")
    assert renderer.vegalite_to_png(SMALL_SPEC).startswith(b"\x89PNG")
