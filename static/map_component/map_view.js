// What changes from run to run on an inline map (inline_map.js): the selected force and the basemap.
// A component of its own, so that the compiled map beside it is the same on every run (Streamlit then
// sends it once, and later only a reference to it). It draws nothing; it hands the view to the map
// named `map_id`, or keeps it for that map to apply once it is drawn.

export default function mapView({data}) {
  const registry = (window.__atlasInlineMaps = window.__atlasInlineMaps || {views: new Map(), maps: new Map()});
  const view = {selected: (data && data.selected) || null, basemap: Boolean(data && data.basemap)};
  if (registry.show) registry.show(data.map_id, view);
  else registry.views.set(data.map_id, view);
}
