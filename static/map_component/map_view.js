// What changes from run to run on an inline map (inline_map.js): the selected force and the basemap.
// A component of its own, so that the compiled map beside it is the same on every run (Streamlit then
// sends it once, and later only a reference to it). It draws nothing; it hands the view to the map
// named `map_id`, or keeps it for that map to apply once it is drawn.

export default function mapView({data, parentElement}) {
  const registry = (window.__atlasInlineMaps = window.__atlasInlineMaps || {views: new Map(), maps: new Map()});
  const mapId = data && data.map_id;
  const view = {selected: (data && data.selected) || null, basemap: Boolean(data && data.basemap)};
  if (registry.show) registry.show(mapId, view);
  else registry.views.set(mapId, view);
  // Called before each new call and when the component leaves the page. Once it has left (the reader
  // went to another page), its view is forgotten: coming back, the map must not show the old
  // selection or ask for basemap tiles before the page sends the view it has now.
  return () => {
    setTimeout(() => {
      if (!parentElement.isConnected && registry.views.get(mapId) === view) registry.views.delete(mapId);
    }, 0);
  };
}
