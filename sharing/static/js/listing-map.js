// The catalog's map: one marker per site with matching listings, clustered when zoomed out.
// The points come from the page itself (a JSON data block), so the map always shows the
// same search as the list beside it.
(function () {
  "use strict";
  var element = document.getElementById("listing-map");
  var data = document.getElementById("listing-map-points");
  if (!element || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent);

  // On a phone one finger scrolls the page, not the map (the list beside it shows the same).
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 19, zoomControl: false, dragging: !L.Browser.mobile });
  L.control.zoom({ zoomInTitle: element.dataset.zoomIn, zoomOutTitle: element.dataset.zoomOut }).addTo(map);
  map.on("popupopen", function (event) {
    var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", element.dataset.closePopup); close.title = element.dataset.closePopup; }
  });
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution }).addTo(map);
  }
  var format = function (label, n) { return label.replace("{n}", n.toLocaleString(document.documentElement.lang)); };
  var text = function (tag, content) { var node = document.createElement(tag); node.textContent = content; return node; };

  var cluster = L.markerClusterGroup({
    // A cluster counts listings, not sites: that is what a person looks for.
    iconCreateFunction: function (group) {
      var total = group.getAllChildMarkers().reduce(function (sum, marker) { return sum + marker.options.count; }, 0);
      var size = total < 10 ? "small" : total < 100 ? "medium" : "large";
      return L.divIcon({ html: "<div><span>" + total + "</span></div>", className: "marker-cluster marker-cluster-" + size,
                         iconSize: L.point(40, 40) });
    }
  });
  var bounds = [];
  points.forEach(function (point) {
    var popup = document.createElement("div");
    popup.appendChild(text("strong", point.name + ", " + point.locality));
    popup.appendChild(text("p", format(element.dataset.countLabel, point.count)));
    var list = document.createElement("ul");
    point.listings.forEach(function (listing) {
      var item = document.createElement("li");
      var link = text("a", listing.title);
      link.href = listing.url;
      item.appendChild(link);
      list.appendChild(item);
    });
    if (point.count > point.listings.length) {
      list.appendChild(text("li", format(element.dataset.moreLabel, point.count - point.listings.length)));
    }
    popup.appendChild(list);
    var marker = L.marker([point.lat, point.lng], { count: point.count, title: point.name, alt: point.name });
    marker.bindPopup(popup);
    cluster.addLayer(marker);
    bounds.push([point.lat, point.lng]);
  });
  map.addLayer(cluster);
  map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
})();
