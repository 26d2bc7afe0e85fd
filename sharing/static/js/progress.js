// Follows work the server does in the background (a listing import, a route plan being made):
// asks its status now and then, moves the progress bar, and reloads the page when the work has
// ended (the page then tells how it went). The page's box names where the status is read,
// data-progress-status; the status is JSON: done, total, text and finished, with a label (what
// the box's label now says) and announce (what screen readers hear, else the text) if it has
// them. Without this script the page offers a way to load it again.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-status]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-progress-status");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var label = box.querySelector("[data-progress-label]");
  var announcer = box.querySelector("[data-progress-announce]");
  var POLL_MS = 1500;
  // Screen readers hear the progress at most this often, not at every poll.
  var ANNOUNCE_MS = 10000;
  var announced = Date.now();

  function show(status) {
    bar.max = Math.max(status.total, 1);
    bar.value = status.done;
    bar.textContent = status.text;
    text.textContent = status.text;
    if (label && status.label) {
      label.textContent = status.label;
    }
    if (Date.now() - announced >= ANNOUNCE_MS) {
      announcer.textContent = status.announce || status.text;
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
