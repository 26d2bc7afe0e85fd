// The site form's map: click it, or drag its marker, to pick the site's place; the latitude and
// longitude fields below it follow, and say "picked" to the server. Typing in the fields moves
// the marker. The fields are the form: without scripts (or with the keyboard) they are enough,
// and Enter on the focused map picks its centre. The background is every map's (map-background.js).
(function () {
  "use strict";
  var element = document.getElementById("site-map");
  if (!element || typeof L === "undefined" || !window.SharingMap) { return; }
  var latitude = document.getElementById(element.dataset.latitude);
  var longitude = document.getElementById(element.dataset.longitude);
  var source = document.getElementById(element.dataset.source);
  var status = document.getElementById(element.dataset.status);
  var lang = document.documentElement.lang || "sv";
  if (!latitude || !longitude || !source) { return; }

  element.hidden = false;
  Array.prototype.forEach.call(document.querySelectorAll(".site-map-help"), function (help) { help.hidden = false; });

  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 19, zoomControl: false });
  L.control.zoom({ zoomInTitle: element.dataset.zoomIn, zoomOutTitle: element.dataset.zoomOut }).addTo(map);
  map.setView([55.45, 13.65], 9);  // the three municipalities, until the background says better

  // Numbers as the fields take them: a decimal comma in Swedish, a point otherwise.
  var write = function (value) {
    var text = value.toFixed(6);
    return lang === "sv" ? text.replace(".", ",") : text;
  };
  var read = function (field) {
    var text = field.value.replace(/\s/g, "").replace("\u2212", "-").replace(",", ".");
    return text === "" ? NaN : Number(text);
  };
  var typed = function () {
    var lat = read(latitude), lng = read(longitude);
    return isFinite(lat) && isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180 ? L.latLng(lat, lng) : null;
  };

  var marker = null;
  var show = function (latlng) {
    if (marker) { marker.setLatLng(latlng); return; }
    marker = L.marker(latlng, { draggable: true, autoPan: true, title: element.dataset.markerLabel,
                                alt: element.dataset.markerLabel }).addTo(map);
    marker.on("dragend", function () { pick(marker.getLatLng()); });
  };
  var pick = function (latlng) {
    latlng = latlng.wrap();
    show(latlng);
    latitude.value = write(latlng.lat);
    longitude.value = write(latlng.lng);
    source.value = "picked";
    if (status) {
      status.textContent = element.dataset.pickedLabel.replace("{lat}", latitude.value).replace("{lng}", longitude.value);
    }
  };

  map.on("click", function (event) { pick(event.latlng); });
  element.addEventListener("keydown", function (event) {
    if (event.target === element && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      pick(map.getCenter());
    }
  });
  [latitude, longitude].forEach(function (field) {
    field.addEventListener("input", function () {
      source.value = "typed";
      if (status) { status.textContent = ""; }
      var latlng = typed();
      if (latlng) { show(latlng); map.panTo(latlng); }
    });
  });

  var start = typed();
  if (start) {
    show(start);
    map.setView(start, Number(element.dataset.zoom) || 16);  // an approximate place shows its surroundings
  }
  var drawn = window.SharingMap.background(map, element);
  if (drawn && !start) {
    drawn.then(function (layer) {
      if (!layer || marker) { return; }
      // No place yet: the municipality's own area (all three if it is not on the map).
      var own = null;
      layer.eachLayer(function (part) {
        var properties = part.feature && part.feature.properties;
        if (properties && properties.kind === "municipality" && properties.name === element.dataset.municipality) { own = part; }
      });
      map.fitBounds((own || layer).getBounds(), { padding: [10, 10] });
    });
  }
})();
