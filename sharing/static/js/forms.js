// After a form was refused, take the user to the summary of what to correct: a screen reader
// reads it at once, and its links lead to each field. (Without scripts, it is first in the form.)
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});

// A panel that is closed on a phone but has room on a wide screen (the search's filters) says
// where it opens by itself: <details data-open-when="(min-width: 60rem)">. Opened once, as the
// page loads: after that it is the user's to open and close.
document.querySelectorAll("details[data-open-when]").forEach(function (panel) {
  if (window.matchMedia && window.matchMedia(panel.getAttribute("data-open-when")).matches) {
    panel.open = true;
  }
});

// A table wider than the screen scrolls sideways in its box (.table-scroll). While it does, the box
// is a focusable region named by the table's caption, so a keyboard can scroll it too; while the
// table fits, it is no extra stop for the Tab key. (Boxes that say tabindex themselves stay so.)
document.querySelectorAll(".table-scroll:not([tabindex])").forEach(function (box) {
  var caption = box.querySelector("caption");
  function follow() {
    if (box.scrollWidth > box.clientWidth) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (caption) {
        box.setAttribute("aria-label", caption.textContent.trim());
      }
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
  follow();
  window.addEventListener("resize", follow);
});
