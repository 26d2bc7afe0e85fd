// The catalog's map: one marker per site with matching listings, clustered when zoomed out.
// The points come from the page itself (a JSON data block), so the map always shows the
// same search as the list beside it. Its background is every map's (map-background.js): the
// simplified map we ship, or a tile server an administrator configured.
(function () {
  "use strict";
  var element = document.getElementById("listing-map");
  var data = document.getElementById("listing-map-points");
  if (!element || !data || typeof L === "undefined" || !window.SharingMap) { return; }
  var points = JSON.parse(data.textContent);
  var lang = document.documentElement.lang || "sv";

  // On a phone one finger scrolls the page, not the map (the list beside it shows the same).
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 19, zoomControl: false, dragging: !L.Browser.mobile });
  L.control.zoom({ zoomInTitle: element.dataset.zoomIn, zoomOutTitle: element.dataset.zoomOut }).addTo(map);

  // Keyboard: a popup opened from a focused marker takes the focus (its links are far behind
  // the markers in the page's order); Escape closes it, wherever the focus is, and gives the
  // focus back to its marker.
  var opener = null;
  var open = null;
  map.on("popupclose", function () { open = null; });
  map.on("popupopen", function (event) {
    open = event.popup;
    var popup = event.popup.getElement();
    var close = popup.querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", element.dataset.closePopup); close.title = element.dataset.closePopup; }
    var source = event.popup._source;
    var icon = source && source.getElement ? source.getElement() : null;
    opener = icon;
    if (icon && document.activeElement === icon) {
      var first = popup.querySelector(".leaflet-popup-content a");
      if (first) { first.focus(); }
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !open) { return; }
    var returnTo = opener;
    map.closePopup();
    if (returnTo && element.contains(returnTo)) { returnTo.focus(); }
  });

  window.SharingMap.background(map, element);

  var format = function (label, n) { return label.replace("{n}", n.toLocaleString(lang)); };
  var text = function (tag, content) { var node = document.createElement(tag); node.textContent = content; return node; };
  var places = function (names) {
    var unique = names.filter(function (name, i) { return names.indexOf(name) === i; });
    unique.sort(function (a, b) { return a.localeCompare(b, lang); });
    return window.Intl && Intl.ListFormat ? new Intl.ListFormat(lang, { type: "conjunction" }).format(unique)
                                          : unique.join(", ");
  };

  // A cluster's icon is a button named by what it holds ("12 annonser i Skurup och Ystad"),
  // not by a bare number.
  var ClusterIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var icon = L.DivIcon.prototype.createIcon.call(this, old);
      icon.setAttribute("aria-label", this.options.label);
      icon.title = this.options.label;
      return icon;
    }
  });
  var cluster = L.markerClusterGroup({
    // A cluster counts listings, not sites: that is what a person looks for.
    iconCreateFunction: function (group) {
      var children = group.getAllChildMarkers();
      var total = children.reduce(function (sum, marker) { return sum + marker.options.count; }, 0);
      var label = format(element.dataset.clusterLabel, total)
        .replace("{places}", places(children.map(function (marker) { return marker.options.locality; })));
      var size = total < 10 ? "small" : total < 100 ? "medium" : "large";
      return new ClusterIcon({ html: "<div><span aria-hidden=\"true\">" + total + "</span></div>",
                               className: "marker-cluster marker-cluster-" + size, iconSize: L.point(40, 40),
                               label: label });
    }
  });
  function countLabel(count) {  // "1 listing", "2 listings": the page gives both forms
    return count === 1 ? element.dataset.countLabelOne : format(element.dataset.countLabel, count);
  }
  var bounds = [];
  points.forEach(function (point) {
    var popup = document.createElement("div");
    popup.appendChild(text("strong", point.name + ", " + point.locality));
    popup.appendChild(text("p", countLabel(point.count)));
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
    var name = point.name + ", " + point.locality + ": " + countLabel(point.count);
    var marker = L.marker([point.lat, point.lng], { count: point.count, locality: point.locality, title: name, alt: name });
    marker.bindPopup(popup);
    cluster.addLayer(marker);
    bounds.push([point.lat, point.lng]);
  });
  map.addLayer(cluster);
  map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
})();
