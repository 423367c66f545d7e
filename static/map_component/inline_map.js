// The atlas's inline maps: a Streamlit Components v2 module (ui/inline_map.py) that runs a folium map,
// compiled on the server by coverage.outputs.maps.inline_map_spec, in the page itself (no iframe).
//
// ui/inline_map.py sends this module with the app's own Leaflet in front of it, so a first visit
// fetches nothing before drawing: the map's files would otherwise queue behind Streamlit's own
// (a browser opens six connections to a host). The compiled map is sent unchanged on every run, so
// Streamlit sends it once and then only a reference to it; what changes from run to run (the selected
// force's outline, the basemap) comes from a second, tiny component (map_view.js) that hands it to the
// live map through the registry below. Either may arrive first.
//
// Streamlit calls the default export when the component mounts and again whenever its data change.
// The first call runs folium's script in a fresh element and keeps the live map; later calls rebuild
// it only if the map itself has changed (its version). A click on a force area sends that area's code
// to Python as the "clicked" trigger.

const registry = (window.__atlasInlineMaps = window.__atlasInlineMaps || {views: new Map(), maps: new Map()});
const assets = (window.__atlasInlineMapAssets = window.__atlasInlineMapAssets || new Map());
const maps = new WeakMap(); // the component's element → its live map and what was last applied

// One <script> or stylesheet per URL per page, shared by every mount (and kept across reruns).
function load(url, kind) {
  if (!assets.has(url)) {
    assets.set(
      url,
      new Promise((resolve, reject) => {
        const element = document.createElement(kind === "js" ? "script" : "link");
        if (kind === "js") {
          element.src = url;
          element.async = false;
          element.fetchPriority = "high"; // on a first visit, ahead of the page's other code where it can
        } else {
          element.rel = "stylesheet";
          element.href = url;
        }
        element.addEventListener("load", () => resolve());
        element.addEventListener("error", () => {
          assets.delete(url);
          element.remove();
          reject(new Error(`could not load ${url}`));
        });
        document.head.appendChild(element);
      }),
    );
  }
  return assets.get(url);
}

async function loadAll(spec) {
  const styles = Promise.all(spec.css_links.map((url) => load(url, "css")));
  for (const url of spec.js) await load(url, "js"); // in order: Leaflet before anything that uses it
  await styles;
}

// folium's script, run as the page runs any inline script; it leaves the map in `map_name`, which the
// wrapper hands back on the script element (document.currentScript) instead of a global.
function runScript(holder, spec) {
  const script = document.createElement("script");
  script.textContent = `(function () {\n${spec.script}\n;document.currentScript.atlasMap = ${spec.map_name};\n})();`;
  holder.appendChild(script);
  const map = script.atlasMap;
  script.remove();
  if (!map) throw new Error("the map's script did not create a map");
  return map;
}

function forceLayers(map) {
  const layers = [];
  map.eachLayer((layer) => {
    if (layer instanceof L.Path && layer.feature && layer.feature.properties && layer.options.interactive !== false) {
      layers.push(layer);
    }
  });
  return layers;
}

function build(state, spec, height) {
  const holder = document.createElement("div");
  holder.className = "atlas-inline-map";
  holder.style.height = `${height}px`;
  holder.innerHTML = spec.html;
  if (spec.css) {
    const style = document.createElement("style");
    style.textContent = spec.css;
    holder.appendChild(style);
  }
  for (const old of state.root.querySelectorAll(".atlas-inline-map-error")) old.remove();
  state.root.appendChild(holder);
  const map = runScript(holder, spec);
  map.getContainer().atlasMap = map; // for the browser tests (tests/test_browser.py)
  // A map that selects nothing (the postcode lottery's) sends no clicks: each would rerun the page.
  for (const layer of state.data.clickable === false ? [] : forceLayers(map)) {
    layer.on("click", () => {
      const code = layer.feature.properties.code;
      if (typeof code === "string" && state.setTriggerValue) state.setTriggerValue("clicked", code);
    });
  }
  // The column can change width without the window resizing (a sidebar opening, a phone turning).
  const observer = new ResizeObserver(() => map.invalidateSize());
  observer.observe(holder);
  Object.assign(state, {holder, map, spec, observer, version: spec.version, outline: null, tiles: null});
  state.applied = {selected: null, basemap: false};
}

function destroy(state) {
  if (state.observer) state.observer.disconnect();
  if (state.map) state.map.remove();
  if (state.holder) state.holder.remove();
  Object.assign(state, {holder: null, map: null, spec: null, observer: null, version: null, outline: null, tiles: null});
}

// What changes from run to run, applied to the live map: nothing is sent again or drawn afresh.
function apply(state, view) {
  const {map, spec} = state;
  const selected = (view && view.selected) || null;
  if (selected !== state.applied.selected) {
    if (state.outline) map.removeLayer(state.outline);
    state.outline = null;
    const layer = selected && forceLayers(map).find((candidate) => candidate.feature.properties.code === selected);
    if (layer) {
      state.outline = L.geoJSON(layer.feature, {style: () => spec.outline, interactive: false}).addTo(map);
    }
    state.applied.selected = selected;
  }
  const basemap = Boolean(view && view.basemap && spec.basemap);
  if (basemap !== state.applied.basemap) {
    if (basemap) {
      state.tiles = L.tileLayer(spec.basemap.url, spec.basemap.options).addTo(map);
      state.tiles.bringToBack();
    } else if (state.tiles) {
      map.removeLayer(state.tiles);
      state.tiles = null;
    }
    state.applied.basemap = basemap;
  }
}

// Only the map's own elements are replaced: Streamlit keeps the component's styles (Leaflet's) in the
// same parent, and a later successful build needs them.
function showError(state, error) {
  destroy(state);
  for (const old of state.root.querySelectorAll(".atlas-inline-map-error")) old.remove();
  const note = document.createElement("p");
  note.className = "atlas-inline-map-error";
  note.setAttribute("role", "alert");
  note.textContent = `The map could not be drawn (${error.message}). The table beside it lists every force area.`;
  state.root.appendChild(note);
}

// The view component (map_view.js) calls this with the latest view of the map named `mapId`.
registry.show = (mapId, view) => {
  registry.views.set(mapId, view);
  const state = registry.maps.get(mapId);
  if (state && state.map && !state.building) apply(state, view);
};

export default function inlineMap({data, parentElement, setTriggerValue}) {
  let state = maps.get(parentElement);
  if (!state) {
    performance.mark("atlas-map:mounted"); // the marks time the map's own work (bench/map.py)
    state = {root: parentElement, map: null, version: null, building: null};
    maps.set(parentElement, state);
  }
  state.data = data;
  state.setTriggerValue = setTriggerValue;
  const spec = data && data.map;
  const mapId = data && data.map_id;
  if (mapId) registry.maps.set(mapId, state);
  if (spec && state.version !== spec.version && state.building !== spec.version) {
    state.building = spec.version;
    loadAll(spec)
      .then(() => {
        const latest = state.data.map;
        if (state.building !== spec.version) return; // a newer map is on its way
        if (latest.version !== spec.version || !parentElement.isConnected) {
          state.building = null; // the map on screen is current again, or has left the page
          return;
        }
        performance.mark("atlas-map:loaded");
        destroy(state);
        build(state, spec, state.data.height || 620);
        state.building = null;
        apply(state, registry.views.get(mapId));
        performance.mark("atlas-map:drawn");
      })
      .catch((error) => {
        state.building = null;
        showError(state, error);
      });
  }
  // Called before each new call and when the component leaves the page: only the latter ends the map.
  return () => {
    setTimeout(() => {
      if (!parentElement.isConnected) {
        destroy(state);
        maps.delete(parentElement);
        if (registry.maps.get(mapId) === state) registry.maps.delete(mapId);
      }
    }, 0);
  };
}
