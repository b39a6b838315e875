/* Check-in at a bridge point (conference/checkin.html).
 *
 * Scans (camera through BarcodeDetector, or a photo decoded with the vendored jsQR),
 * participant numbers and the "Check in" buttons of the search rows are posted to the
 * page's scan URL. Each gets a client reference unique to this device (device id +
 * counter). When the device is offline, or the request fails without an answer, the
 * check-in is kept in a queue in localStorage and posted to the sync URL when the
 * connection returns (on "online", on page load and every 20 s while the queue is not
 * empty). An item leaves the queue only when the server answered it; the server's
 * check-in is idempotent and honours the client reference, so a replay counts once.
 */
(function () {
  "use strict";

  var root = document.getElementById("checkin");
  if (!root) return;
  var T = JSON.parse(document.getElementById("checkin-strings").textContent);
  var urls = { scan: root.dataset.scanUrl, sync: root.dataset.syncUrl };
  var QUEUE_KEY = "qt.checkin.queue:" + root.dataset.queueKey;
  var BATCH = 100;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (m, name) {
      return name in values ? String(values[name]) : m;
    });
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return root.dataset.csrf || (m ? decodeURIComponent(m[1]) : "");
  }

  // ------------------------------------------------------------ storage

  var memory = {};  // when localStorage is not available (private mode)
  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return key in memory ? memory[key] : fallback;
    }
  }
  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      memory[key] = value;
    }
  }

  function deviceId() {
    var id = load("qt.checkin.device", null);
    if (!id) {
      var bytes = new Uint8Array(8);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      save("qt.checkin.device", id);
    }
    return id;
  }

  function newRef() {
    var n = (load("qt.checkin.counter", 0) || 0) + 1;
    save("qt.checkin.counter", n);
    return deviceId() + "-" + Date.now().toString(36) + "-" + n.toString(36);
  }

  function queue() { return load(QUEUE_KEY, []) || []; }
  function setQueue(items) { save(QUEUE_KEY, items); showQueue(); }
  function enqueue(item) {
    var items = queue();
    if (!items.some(function (i) { return i.client_ref === item.client_ref; })) items.push(item);
    setQueue(items);
  }

  // ------------------------------------------------------------ display

  var answerBox = document.getElementById("answer");
  var waiting = document.getElementById("waiting");
  var offlineBadge = document.getElementById("offline");
  var syncButton = document.getElementById("sync-now");
  var log = document.getElementById("log");

  function showQueue() {
    var n = queue().length;
    waiting.dataset.waiting = String(n);
    waiting.textContent = fmt(T.waiting, { n: n });
    waiting.hidden = n === 0;
    syncButton.hidden = n === 0 || !navigator.onLine;
  }

  function showNetwork() {
    offlineBadge.hidden = navigator.onLine;
    offlineBadge.title = T.offline;
    showQueue();
  }

  var CLASS = { checked_in: "ok", substitute: "ok", excused: "ok", already: "already",
                other_point: "warn", error: "error", queued: "queued", synced: "ok" };

  function box(outcome, message) {
    var div = document.createElement("div");
    div.className = "answer " + (CLASS[outcome] || "error");
    div.dataset.outcome = outcome;
    var p = document.createElement("p");
    p.className = "msg";
    p.textContent = message;
    div.appendChild(p);
    return div;
  }

  function addLog(outcome, message) {
    var li = document.createElement("li");
    var t = document.createElement("span");
    t.className = "t";
    t.textContent = new Date().toTimeString().slice(0, 5);
    li.appendChild(t);
    li.appendChild(document.createTextNode(message));
    li.dataset.outcome = outcome;
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 30) log.removeChild(log.lastChild);
  }

  function confirmButton(item) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "primary js-confirm";
    b.textContent = T.confirm;
    b.addEventListener("click", function () {
      b.disabled = true;
      submit({ token: item.token, participant_id: item.participant_id,
               accept_other_point: true, label: item.label });
    });
    return b;
  }

  function updateCounts(counts) {
    if (!counts) return;
    ["expected", "present", "excused", "waiting"].forEach(function (k) {
      var el = document.querySelector('#counts [data-count="' + k + '"]');
      if (el && k in counts) el.textContent = Number(counts[k]).toLocaleString(document.documentElement.lang || undefined);
    });
  }

  function markRow(answer) {
    if (!answer.participant || (answer.outcome !== "checked_in" && answer.outcome !== "already")) return;
    var rows = document.querySelectorAll('#results li[data-participant-id="' + answer.participant + '"]');
    Array.prototype.forEach.call(rows, function (row) {
      var st = row.querySelector(".st");
      if (st) {
        st.classList.add("present");
        st.dataset.status = "present";
        st.textContent = T.present + (answer.time ? " · " + answer.time : "");
      }
      var acts = row.querySelector(".acts");
      if (acts) acts.remove();
    });
  }

  function showAnswer(answer, item) {
    var div = box(answer.outcome, answer.message);
    if (answer.outcome === "other_point") div.appendChild(confirmButton(item));
    answerBox.replaceChildren(div);
    addLog(answer.outcome, answer.message);
    markRow(answer);
    updateCounts(answer.counts);
  }

  function showQueued(item) {
    var message = fmt(T.queued, { what: item.label || "" });
    answerBox.replaceChildren(box("queued", message));
    addLog("queued", message);
  }

  // ------------------------------------------------------------ talking to the server

  function post(url, body, json) {
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    if (root.dataset.scanKey) headers["X-Scan-Key"] = root.dataset.scanKey;
    return fetch(url, { method: "POST", headers: headers, body: body,
                        credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        var type = res.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          // a login page after a redirect, a CSRF failure page, a proxy's error: no answer
          throw new Error(res.status + " " + res.statusText);
        }
        return res.json().then(function (data) { return { status: res.status, data: data }; });
      });
  }

  function wire(item) {
    var out = { client_ref: item.client_ref, accept_other_point: item.accept_other_point ? 1 : 0,
                at: item.at };
    if (item.token) out.token = item.token; else out.participant_id = item.participant_id;
    return out;
  }

  /* One check-in: item = {token} or {participant_id}, [accept_other_point], label. */
  function submit(item) {
    item.client_ref = newRef();
    item.at = Date.now();
    if (!navigator.onLine) {
      enqueue(item);
      showQueued(item);
      return Promise.resolve();
    }
    var form = new URLSearchParams();
    var w = wire(item);
    Object.keys(w).forEach(function (k) { form.append(k, w[k]); });
    return post(urls.scan, form, false).then(function (res) {
      if (res.status === 401) {  // logged out: keep it until the coordinator logs in again
        enqueue(item);
        answerBox.replaceChildren(box("error", res.data.message));
        return;
      }
      showAnswer(res.data, item);
    }).catch(function () {
      enqueue(item);
      showQueued(item);
    });
  }

  var syncing = false;

  /* Post the first BATCH items of the queue; resolves true when more are waiting. */
  function syncBatch() {
    var batch = queue().slice(0, BATCH);
    return post(urls.sync, JSON.stringify(batch.map(wire)), true).then(function (res) {
      if (!Array.isArray(res.data.results)) throw new Error(res.data.message || res.status);
      var answered = {};
      res.data.results.forEach(function (r) { answered[r.client_ref] = r; });
      // drop only what was answered; check-ins added meanwhile stay
      setQueue(queue().filter(function (i) { return !(i.client_ref in answered); }));
      var div = box("synced", fmt(T.synced, { n: res.data.results.length }));
      var ul = document.createElement("ul");
      batch.forEach(function (item) {
        var r = answered[item.client_ref];
        if (!r) return;
        var li = document.createElement("li");
        li.dataset.outcome = r.outcome;
        li.textContent = r.message;
        if (r.outcome === "other_point") li.appendChild(confirmButton(item));
        ul.appendChild(li);
        addLog(r.outcome, r.message);
        markRow(r);
      });
      div.appendChild(ul);
      answerBox.replaceChildren(div);
      updateCounts(res.data.counts);
      return queue().length > 0 && res.data.results.length > 0;
    });
  }

  function sync() {
    if (syncing || !queue().length || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return syncBatch().then(function (more) {
      syncing = false;
      if (more) return sync();
    }, function (err) {
      syncing = false;
      showQueue();
      answerBox.replaceChildren(box("queued", fmt(T.sync_failed, { error: err.message || err })));
    });
  }

  // ------------------------------------------------------------ the three ways

  // (c) the participant number
  var numberForm = document.getElementById("number-form");
  if (numberForm) {
    numberForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = numberForm.querySelector("input[name=participant_id]");
      var value = input.value.replace(/[#\s]/g, "");
      if (!value) return;
      input.value = "";
      submit({ participant_id: value, label: fmt(T.number, { number: value }) });
      input.focus();
    });
  }

  // (b) the "Check in" button of a search row (rows arrive through htmx)
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".js-checkin");
    if (!b) return;
    e.preventDefault();
    var row = b.closest("li");
    var name = row && row.querySelector(".who");
    submit({ participant_id: b.dataset.participantId,
             label: name ? name.firstChild.textContent.trim() : "#" + b.dataset.participantId });
  });

  // answers of absence with leave and substitutes (htmx fragments) go to the log too
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target !== answerBox) return;
    var a = answerBox.querySelector("[data-outcome]");
    if (a) addLog(a.dataset.outcome, a.textContent.trim());
  });

  // (a) a photo of the QR code, decoded here
  var photo = document.getElementById("qr-photo");
  var lastToken = { value: "", at: 0 };

  function scanned(text, fromCamera) {
    var now = Date.now();
    // the camera sees the same code many times a second while it stays in view
    if (fromCamera && text === lastToken.value && now - lastToken.at < 4000) return;
    lastToken = { value: text, at: now };
    submit({ token: text, label: T.code });
  }

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("image")); };
      img.src = url;
    });
  }

  function decodeWithJsQR(img, maxSide) {
    if (typeof window.jsQR !== "function") return null;
    var w = img.naturalWidth, h = img.naturalHeight;
    var scale = Math.min(1, maxSide / Math.max(w, h));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    var data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(data.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
    return code && code.data ? code.data : null;
  }

  function decodePhoto(file) {
    answerBox.replaceChildren(box("queued", T.reading));
    return loadImage(file).then(function (img) {
      // phone photos are large: try a reduced copy first, then a finer one
      var text = decodeWithJsQR(img, 1000) || decodeWithJsQR(img, 2000);
      if (text) return text;
      if ("BarcodeDetector" in window) {
        return new window.BarcodeDetector({ formats: ["qr_code"] }).detect(img)
          .then(function (codes) { return codes.length ? codes[0].rawValue : null; })
          .catch(function () { return null; });
      }
      return null;
    }).then(function (text) {
      if (text) scanned(text);
      else answerBox.replaceChildren(box("error", T.no_code));
    }).catch(function () {
      answerBox.replaceChildren(box("error", T.no_code));
    });
  }

  if (photo) {
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      if (!file) return;
      decodePhoto(file).finally(function () { photo.value = ""; });
    });
  }

  // (a) the camera, where the browser has a QR BarcodeDetector
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var video = document.getElementById("camera");
  var stream = null, detector = null, timer = null;

  function stopCamera() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function detectLoop() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) scanned(codes[0].rawValue, true);
    }).catch(function () {}).finally(function () {
      if (stream) timer = setTimeout(detectLoop, 250);
    });
  }

  function startCamera() {
    detector = detector || new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        answerBox.replaceChildren(box("queued", T.scanning));
        return video.play();
      })
      .then(detectLoop)
      .catch(function (err) {
        stopCamera();
        answerBox.replaceChildren(box("error", fmt(T.camera_error, { error: err.name || err })));
      });
  }

  if (startButton && "BarcodeDetector" in window && navigator.mediaDevices &&
      navigator.mediaDevices.getUserMedia) {
    var supported = window.BarcodeDetector.getSupportedFormats
      ? window.BarcodeDetector.getSupportedFormats() : Promise.resolve(["qr_code"]);
    supported.then(function (formats) {
      if (formats.indexOf("qr_code") === -1) return;
      startButton.hidden = false;
      document.getElementById("photo-label").classList.add("secondary");
      startButton.addEventListener("click", startCamera);
      stopButton.addEventListener("click", stopCamera);
      document.addEventListener("visibilitychange", function () {
        if (document.hidden && stream) stopCamera();
      });
    }).catch(function () {});
  }

  // ------------------------------------------------------------ connection

  window.addEventListener("online", function () { showNetwork(); sync(); });
  window.addEventListener("offline", showNetwork);
  syncButton.addEventListener("click", function () { sync(); });
  setInterval(function () { if (queue().length) sync(); }, 20000);
  window.addEventListener("storage", function (e) { if (e.key === QUEUE_KEY) showQueue(); });
  showNetwork();
  sync();
})();
