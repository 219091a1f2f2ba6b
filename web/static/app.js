// app.js: the little JavaScript the pages need, and nothing more.
// - <time data-local> elements get the viewer's own time zone;
// - every htmx request carries the CSRF token of the page;
// - an htmx request that fails shows its message in #alerts.
// No inline script is allowed (Content-Security-Policy), so all of it is here.
(function () {
  "use strict";

  var formats = {
    datetime: new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }),
    date: new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }),
    full: new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" })
  };
  var relative = typeof Intl.RelativeTimeFormat === "function"
    ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
    ["hour", 3600], ["minute", 60], ["second", 1]];

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    if (!relative) { return formats.datetime.format(date); }
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return formats.datetime.format(date);
  }

  // slaWords is an SLA badge's time in words by the viewer's clock:
  // "due in 25 min", "due now", "breached 2 h ago".
  function slaWords(kind, date) {
    var ms = date.getTime() - Date.now();
    if (kind === "sla-due" && ms <= 0) { return "due now"; }
    var m = Math.max(1, Math.round(Math.abs(ms) / 60000));
    var text = m < 60 ? m + " min" : (m < 2880 ? Math.floor(m / 60) + " h" : Math.floor(m / 1440) + " d");
    return kind === "sla-due" ? "due in " + text : "breached " + text + " ago";
  }

  // localTimes rewrites the server's UTC text of each <time data-local>
  // under root into the viewer's time zone; the exact time stays in title.
  function localTimes(root) {
    var nodes = (root || document).querySelectorAll("time[datetime][data-local]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) { continue; }
      var kind = el.getAttribute("data-local");
      if (kind === "sla-due" || kind === "sla-breached") {
        el.textContent = slaWords(kind, date);
      } else {
        el.textContent = kind === "relative" ? ago(date) : (formats[kind] || formats.datetime).format(date);
      }
      el.title = formats.full.format(date);
      el.setAttribute("data-localized", "true");
    }
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function alertText(text) {
    var box = document.getElementById("alerts");
    if (!box) { return; }
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    box.replaceChildren(p);
  }

  // viewerZones fills each <input data-viewer-zone> with the browser's time
  // zone, so snooze presets and "Wakes today" are the viewer's times.
  function viewerZones(root) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { zone = ""; }
    if (!zone) { return; }
    var nodes = (root || document).querySelectorAll("input[data-viewer-zone]");
    for (var i = 0; i < nodes.length; i++) { nodes[i].value = zone; }
    var notes = (root || document).querySelectorAll("[data-zone-note]");
    for (var j = 0; j < notes.length; j++) { notes[j].textContent = "Times in " + zone + "."; }
  }

  // A box marked data-zone-on-submit ("Wakes today") is sent as the viewer's
  // time zone instead of "true", set only as its form is sent.
  document.addEventListener("submit", function (e) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { zone = ""; }
    var boxes = e.target.querySelectorAll ? e.target.querySelectorAll("input[data-zone-on-submit]") : [];
    for (var i = 0; i < boxes.length; i++) { if (zone) { boxes[i].value = zone; } }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); viewerZones(document); });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); viewerZones(e.target); });
  document.addEventListener("htmx:oobAfterSwap", function (e) { localTimes(e.target); viewerZones(e.target); });

  document.addEventListener("htmx:configRequest", function (e) {
    var token = csrfToken();
    if (token) { e.detail.headers["X-CSRF-Token"] = token; }
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("alerts");
    if (box) { box.replaceChildren(); }
  });

  // The server answers an htmx error with a short <p class="error">; show its
  // text only (never its markup) at the top of the page.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var el = doc.querySelector(".error") || doc.body;
      text = (el && el.textContent || "").trim();
    } catch (err) { text = ""; }
    alertText(text || ("The server answered " + xhr.status + ". Reload the page and try again."));
  });
  document.addEventListener("htmx:sendError", function () {
    alertText("The server could not be reached. Check your connection and try again.");
  });
})();

// ---- Inbox and conversation: live updates --------------------------------
// A page element with data-live="<events URL>" listens to its workspace's
// Server-Sent Events. Each element with data-live-refresh="<URL>" is
// re-fetched (htmx, swapping itself) when something changes: one that names
// data-live-conversation only for changes of that conversation, any other for
// every change, debounced. "resync" and a reconnection re-fetch everything.
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  // The person's own requests (a button, a form) come first: while one is on its
  // way, and for QUIET_MS after its answer, refreshes wait, so a refresh never
  // replaces the part of the page the person is clicking in. Their own change's
  // event arrives meanwhile and is answered by the refresh that follows.
  var QUIET_MS = 600;
  var ownInFlight = 0;
  var quietUntil = 0;
  // ownRequests counts the person's requests. A refresh already on its way when
  // one starts was rendered before their change: its answer is dropped and the
  // refresh asked again, so it can never put the old state back over theirs.
  var ownRequests = 0;
  function isLive(e) { return e.detail.requestConfig && e.detail.requestConfig.headers["X-Inbox-Live"]; }
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (!isLive(e)) { ownInFlight++; ownRequests++; }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var asked = isLive(e);
    if (asked && asked !== String(ownRequests)) {
      e.detail.shouldSwap = false;
      var el = e.detail.target && document.getElementById(e.detail.target.id);
      if (el) { pending(el); }
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (!isLive(e)) {
      ownInFlight = Math.max(0, ownInFlight - 1);
      quietUntil = Date.now() + QUIET_MS;
    }
  });

  // A form the person has begun to fill in (a ticked box, typed text, another choice) is
  // theirs: a refresh would throw their input away, so it waits until they send it.
  function dirty(el) {
    var fields = el.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) { return true; }
      } else if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) { return true; }
        }
      } else if (f.type !== "hidden" && f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function refresh(el) {
    var url = el.getAttribute("data-live-refresh");
    if (!url || !window.htmx || !el.id) { return; }
    // A person in the middle of choosing in a <select>, filling in a form, or waiting
    // for the answer to their own request, is not interrupted.
    var choosing = el.contains(document.activeElement) && document.activeElement.tagName === "SELECT";
    if (choosing || dirty(el) || ownInFlight > 0 || Date.now() < quietUntil) {
      pending(el);
      return;
    }
    // settle:0ms: htmx wires up the new forms at once, so a click right after a
    // refresh never lands on a form htmx has not seen yet (a plain post).
    window.htmx.ajax("GET", url, { target: "#" + el.id, swap: "outerHTML settle:0ms", headers: { "X-Inbox-Live": String(ownRequests) } });
  }

  // One re-fetch per element at most every DEBOUNCE_MS: events that arrive
  // while one is scheduled ride along with it, and a steady stream of events
  // cannot postpone it for ever.
  var timers = {};
  function pending(el) {
    var key = el.id;
    if (timers[key]) { return; }
    timers[key] = setTimeout(function () {
      delete timers[key];
      var now = document.getElementById(key);
      if (now) { refresh(now); }
    }, DEBOUNCE_MS);
  }

  function targets(conversationID) {
    var out = [];
    var nodes = document.querySelectorAll("[data-live-refresh]");
    for (var i = 0; i < nodes.length; i++) {
      var only = nodes[i].getAttribute("data-live-conversation");
      if (conversationID === null || !only || only === conversationID) { out.push(nodes[i]); }
    }
    return out;
  }

  function refreshAll(conversationID) {
    var list = targets(conversationID);
    for (var i = 0; i < list.length; i++) { pending(list[i]); }
  }

  function listen(url) {
    if (typeof EventSource !== "function") { return; }
    var source = new EventSource(url);
    // "ready" starts every connection, the first and each reconnection: whatever
    // changed while the page was loading or away was not sent, so re-fetch.
    source.addEventListener("ready", function () { refreshAll(null); });
    source.addEventListener("change", function (e) {
      var id = null;
      try { id = JSON.parse(e.data).conversation_id || null; } catch (err) { id = null; }
      refreshAll(id === null ? null : String(id));
    });
    source.addEventListener("resync", function () { refreshAll(null); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Ticking a filter box applies it at once ("Tick Unread only at the top of the list to
  // filter"); the Filter button stays for browsers without JavaScript. requestSubmit sends
  // the submit event, so "Wakes today" still carries the viewer's zone.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("form.filters .filter-checks input[type=checkbox]")) { return; }
    if (box.form.requestSubmit) { box.form.requestSubmit(); } else { box.form.submit(); }
  });

  // A page restored by the Back button shows its own URL's filters, not the boxes
  // ticked just before leaving it.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) { return; }
    var forms = document.querySelectorAll("form.filters");
    for (var i = 0; i < forms.length; i++) { forms[i].reset(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.querySelector("[data-live]");
    if (el) { listen(el.getAttribute("data-live")); }
  });
})();
