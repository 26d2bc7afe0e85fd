// After a form was refused, take the user to the summary of what to correct: a screen reader
// reads it at once, and its links lead to each field. (Without scripts, it is first in the form.)
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    return;
  }
  // A page opened at a part that takes focus (tabindex="-1", as a driver's stop after its report)
  // puts it there: a screen reader and the Tab key go on from that part, not from the page's top.
  var target = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (target && target.getAttribute("tabindex") === "-1" && target.id !== "main") {
    target.focus();
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

// Fields that concern one choice of a radio group alone (a loan's last day, a swap's offer) say
// so: data-shown-when="kind=borrow". They are hidden while another choice is made. Without
// scripts they all show, and their labels say which choice they concern.
document.querySelectorAll("[data-shown-when]").forEach(function (part) {
  var form = part.closest("form");
  var wanted = part.getAttribute("data-shown-when").split("=");
  if (!form || wanted.length !== 2) {
    return;
  }
  var group = form.querySelectorAll('input[type="radio"]');
  function follow() {
    var chosen = Array.prototype.find.call(group, function (radio) {
      return radio.name === wanted[0] && radio.checked;
    });
    part.hidden = Boolean(chosen) && chosen.value !== wanted[1];
  }
  group.forEach(function (radio) { radio.addEventListener("change", follow); });
  follow();
});

// A table wider than the screen scrolls sideways in its box (.table-scroll). While it does, the box
// is a focusable region named by the table's caption, so a keyboard can scroll it too; while the
// table fits, it is no extra stop for the Tab key. (Boxes that say tabindex themselves stay so.)
document.querySelectorAll(".table-scroll:not([tabindex])").forEach(function (box) {
  var caption = box.querySelector("caption");
  var table = box.querySelector("table");
  var named = table && table.getAttribute("aria-labelledby");  // a table named by its heading
  function follow() {
    if (box.scrollWidth > box.clientWidth) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (caption) {
        box.setAttribute("aria-label", caption.textContent.trim());
      } else if (named) {
        box.setAttribute("aria-labelledby", named);
      }
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      box.removeAttribute("aria-labelledby");
    }
  }
  follow();
  window.addEventListener("resize", follow);
});

// A form that changes something is sent once: a second click while the first is on its way (a
// double click, an impatient tap on a slow line) would ask, save or book twice. Back on the page
// (the browser's back button keeps it as it was), or after a while (the user stopped the page),
// it may be sent again. Attributes, not properties: a field named "method" hides form.method.
var SENDABLE_AGAIN_AFTER_MS = 15000;
function sendable(form) {
  form.removeAttribute("data-sending");
  form.removeAttribute("aria-busy");
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var method = (button && button.getAttribute("formmethod")) || form.getAttribute("method") || "get";
  var target = (button && button.getAttribute("formtarget")) || form.getAttribute("target") || "_self";
  if (event.defaultPrevented || method.toLowerCase() !== "post" || target !== "_self") {
    return;
  }
  if (form.hasAttribute("data-sending")) {
    event.preventDefault();
    return;
  }
  form.setAttribute("data-sending", "");
  form.setAttribute("aria-busy", "true");
  window.setTimeout(function () { sendable(form); }, SENDABLE_AGAIN_AFTER_MS);
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sending]").forEach(sendable);
});

// A table shown as cards on a phone (.stack-table) is a table all the same: WebKit (VoiceOver)
// drops a table's semantics once CSS changes its display, and these roles, the same as the
// elements', give them back.
document.querySelectorAll(".stack-table").forEach(function (table) {
  var roles = { table: "table", thead: "rowgroup", tbody: "rowgroup", tr: "row", td: "cell" };
  var parts = [table].concat(Array.prototype.slice.call(table.querySelectorAll("thead, tbody, tr, th, td")));
  parts.forEach(function (part) {
    var tag = part.tagName.toLowerCase();
    var role = tag === "th" ? (part.getAttribute("scope") === "row" ? "rowheader" : "columnheader") : roles[tag];
    part.setAttribute("role", role);
  });
});
