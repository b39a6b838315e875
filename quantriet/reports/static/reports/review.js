// Keyboard shortcuts of the review page: j next, k previous, g grade, r return for
// revision, Ctrl+Enter (or Cmd+Enter) saves. Ignored while typing in a field.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT");
  }
  function choose(value) {
    var radio = document.querySelector("input[name=outcome][value=" + value + "]");
    if (!radio) return;
    radio.checked = true;
    var target = value === "graded" ? document.querySelector("input[name=grade]")
      : document.querySelector("textarea[name=comments]");
    if (target) target.focus();
  }
  document.addEventListener("keydown", function (e) {
    var form = document.getElementById("review-form");
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && form) {
      e.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    var link = null;
    if (e.key === "j") link = document.getElementById("next-report");
    if (e.key === "k") link = document.getElementById("prev-report");
    if (link) { window.location.href = link.href; return; }
    if (e.key === "g") { e.preventDefault(); choose("graded"); }
    if (e.key === "r") { e.preventDefault(); choose("returned"); }
  });
})();
