// Follows a running listing import: asks its status now and then, moves the progress bar,
// and reloads the page when the import has ended (the page then tells how it went).
// Without this script the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var box = document.querySelector("[data-import-status]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-import-status");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-text]");
  var announcer = box.querySelector("[data-import-announce]");
  var POLL_MS = 1500;
  // Screen readers hear the progress at most this often, not at every poll.
  var ANNOUNCE_MS = 10000;
  var announced = Date.now();

  function show(status) {
    bar.max = Math.max(status.total, 1);
    bar.value = status.done;
    bar.textContent = status.text;
    text.textContent = status.text;
    if (Date.now() - announced >= ANNOUNCE_MS) {
      announcer.textContent = status.text;
      announced = Date.now();
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, POLL_MS * 4);  // the network or the server hiccuped: try again later
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
