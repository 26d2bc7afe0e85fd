// Follows a route plan being made: asks its status now and then, moves the progress bar, and
// reloads the page when the plan is done or failed (the page then shows it). Without this
// script the page offers a link to load it again.
(function () {
  "use strict";
  var box = document.querySelector("[data-plan-status]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-plan-status");
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-plan-label]");
  var text = box.querySelector("[data-plan-text]");
  var announcer = box.querySelector("[data-plan-announce]");
  var POLL_MS = 1500;
  // Screen readers hear the progress at most this often, not at every poll.
  var ANNOUNCE_MS = 10000;
  var announced = Date.now();

  function show(status) {
    bar.value = status.progress;
    bar.textContent = status.progress + " %";
    label.textContent = status.label;
    text.textContent = status.progress + " %";
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
        if (status.finished) {
          window.location.reload();
        } else {
          show(status);
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, POLL_MS * 4);  // the network or the server hiccuped: try again later
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
