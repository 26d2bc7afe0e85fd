// After a form was refused, take the user to the summary of what to correct: a screen reader
// reads it at once, and its links lead to each field. (Without scripts, it is first in the form.)
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});
