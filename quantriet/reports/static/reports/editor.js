// The report editor: live word count, autosave of the draft a few seconds after typing
// stops (and when the page is hidden), one reference per submission so that a repeated
// click or a retried request stores one version.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var text = document.getElementById("report-text");
  var count = document.getElementById("word-count");
  var state = document.getElementById("draft-state");
  var ref = document.getElementById("client-ref");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var min = parseInt(count.dataset.min || "0", 10);
  var timer = null, saved = text.value, saving = false;

  function words(s) {
    // tokens separated by white space that contain a letter or a digit
    return s.split(/\s+/).filter(function (w) { return /[\p{L}\p{N}]/u.test(w); }).length;
  }
  function showCount() {
    var n = words(text.value);
    count.textContent = n;
    count.classList.toggle("error", min > 0 && n < min);
  }
  function save() {
    timer = null;
    if (saving || text.value === saved) return;
    saving = true;
    var body = new FormData();
    body.append("text", text.value);
    var sent = text.value;
    fetch(form.dataset.draftUrl, {method: "POST", body: body, credentials: "same-origin",
                                  headers: {"X-CSRFToken": csrf}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.ok) saved = sent;
        state.textContent = data.message;
        state.classList.toggle("error", !data.ok);
      })
      .catch(function () {
        state.textContent = state.dataset.offline || "Không lưu được (mất kết nối) — sẽ thử lại.";
        state.classList.add("error");
      })
      .finally(function () { saving = false; if (text.value !== saved) schedule(); });
  }
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 2500);
  }
  text.addEventListener("input", function () { showCount(); schedule(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save();
  });
  form.addEventListener("submit", function () {
    if (!ref.value) {
      ref.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : String(Date.now()) + Math.random().toString(16).slice(2);
    }
    if (timer) clearTimeout(timer);
    form.querySelector("button[type=submit]").disabled = true;
  });
  showCount();
})();
