// Every map's background, the same on each page that draws one. It is the simplified map we
// ship (the municipalities' borders and localities, drawn as vector layers); a tile server only
// when an administrator configured one, so by default no third party learns where anyone looks.
// The map's element says what to draw: data-tiles and data-attribution (a configured tile
// server), data-background (our GeoJSON), data-places (localities beyond it) and
// data-background-attribution. It gives a promise of the GeoJSON layer drawn (null if none is).
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function background(map, element) {
    // The zoom buttons first in the keyboard's order: Leaflet puts its controls after the map's
    // panes, so a keyboard user would pass every marker to reach them. They are placed by CSS
    // (absolutely, over the panes), so where they stand in the page changes nothing one sees.
    var controls = element.querySelector(".leaflet-control-container");
    if (controls) { element.insertBefore(controls, element.firstChild); }
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution }).addTo(map);
    } else {
      element.classList.add("map-own");
    }
    // The municipalities and their localities, from our own server: the whole background when
    // no tiles are drawn, the borders over them when they are.
    if (!element.dataset.background || !window.fetch || !window.Promise) { return window.Promise && Promise.resolve(null); }
    function read(url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      });
    }
    var filled = !element.dataset.tiles;
    // Without tiles, the towns of a municipality that joined, placed by its own sites (data-places):
    // the map we ship names only the founders'. Missing, they leave the rest of the map as it is.
    var places = filled && element.dataset.places
      ? read(element.dataset.places).catch(function () { return { features: [] }; })
      : Promise.resolve({ features: [] });
    return Promise.all([read(element.dataset.background), places]).then(function (both) {
      var geojson = both[0];
      geojson.features = geojson.features.concat(both[1].features || []);
      // The places' names lie under the markers (600): what one clicks is never hidden by a name;
      // but over the markers' shadows (500), which would blur a name beside its marker.
      if (filled && !map.getPane("places")) { map.createPane("places").style.zIndex = 550; }
      var layer = L.geoJSON(geojson, {
        interactive: false,
        style: function () {
          return { color: "#4d5b4f", weight: 1.5, fill: filled, fillColor: "#f3f0e6", fillOpacity: 1, interactive: false };
        },
        pointToLayer: function (feature, latlng) {
          var seat = feature.properties.seat;
          var dot = L.circleMarker(latlng, { radius: seat ? 4 : 3, color: "#333", weight: 1, fillColor: "#333",
                                             fillOpacity: 1, interactive: false });
          if (filled) {
            // A name as text, never as markup: beyond the map we ship, names are what a
            // municipality's administrator typed for a site (data-places), read by every partner.
            var name = document.createElement("span");
            name.textContent = feature.properties.name;
            dot.bindTooltip(name, { permanent: true, direction: "right", offset: [14, 0], pane: "places",
                                                       className: seat ? "map-place map-place-seat" : "map-place",
                                                       interactive: false });
          }
          return dot;
        }
      });
      layer.getAttribution = function () { return element.dataset.backgroundAttribution; };
      layer.addTo(map);
      layer.bringToBack();
      return layer;
    }).catch(function () { return null; /* what the map shows on it, and the page around it, still stand */ });
  }

  window.SharingMap = { background: background };
})();
