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
  // A refresh whose answer comes after the person began to fill in the form it would
  // replace (ticked a row while it was on its way) is dropped the same way: the form is
  // theirs until they send or undo it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var asked = isLive(e);
    if (!asked) { return; }
    var el = e.detail.target && document.getElementById(e.detail.target.id);
    if (asked !== String(ownRequests) || (el && dirty(el))) {
      e.detail.shouldSwap = false;
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
    source.addEventListener("ready", function () { refreshAll(null); refreshBell(); });
    source.addEventListener("change", function (e) {
      var data = {};
      try { data = JSON.parse(e.data) || {}; } catch (err) { data = {}; }
      // The person's own notifications changed: only the bell re-fetches.
      if (data.kind === "notification") { refreshBell(); return; }
      var id = data.conversation_id || null;
      refreshAll(id === null ? null : String(id));
    });
    source.addEventListener("resync", function () { refreshAll(null); refreshBell(); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // The bell (#bell, data-bell="<URL of the bell alone>") shows the person's unread
  // notifications; the tab's title starts with the count: "(3) Inbox". A notification
  // that is new since the last look raises a browser notification when the person turned
  // them on (assignments and mentions only: data-latest-alert).
  var ALERTS_KEY = "inbox-browser-notifications";
  var bellTimer = null;
  function titleCount(n) {
    var base = document.title.replace(/^\(\d+\) /, "");
    document.title = n > 0 ? "(" + n + ") " + base : base;
  }
  function alertsOn() {
    try { return window.localStorage.getItem(ALERTS_KEY) === "on"; } catch (err) { return false; }
  }
  function maybeAlert(before, bell) {
    var id = bell.getAttribute("data-latest-id");
    if (!id || id === before || bell.getAttribute("data-latest-alert") !== "true") { return; }
    if (typeof Notification !== "function" || Notification.permission !== "granted" || !alertsOn()) { return; }
    var n = new Notification(bell.getAttribute("data-latest-text") || "New notification", { tag: id });
    n.onclick = function () { window.focus(); window.location.href = bell.getAttribute("data-bell").replace(/\/bell$/, ""); };
  }
  function refreshBell() {
    if (bellTimer) { return; }
    bellTimer = setTimeout(function () {
      bellTimer = null;
      var bell = document.getElementById("bell");
      if (!bell || !window.fetch) { return; }
      var before = bell.getAttribute("data-latest-id");
      window.fetch(bell.getAttribute("data-bell"), { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          var now = document.getElementById("bell");
          if (!html || !now) { return; }
          var box = document.createElement("div");
          box.innerHTML = html.trim();
          var fresh = box.firstElementChild;
          if (!fresh || fresh.id !== "bell") { return; }
          now.replaceWith(fresh);
          titleCount(parseInt(fresh.getAttribute("data-count"), 10) || 0);
          maybeAlert(before, fresh);
        })
        .catch(function () { /* the next event or reconnection tries again */ });
    }, DEBOUNCE_MS);
  }

  // "Turn on browser notifications": asks the browser's permission, and remembers the
  // choice in this browser only.
  function showAlertState() {
    var button = document.querySelector("[data-notify-enable]");
    var state = document.querySelector("[data-notify-state]");
    if (!button || !state) { return; }
    if (typeof Notification !== "function") {
      state.textContent = "This browser cannot show notifications.";
      return;
    }
    button.hidden = false;
    if (Notification.permission === "granted" && alertsOn()) {
      button.textContent = "Turn off browser notifications";
      state.textContent = "Browser notifications are on for assignments and mentions.";
    } else if (Notification.permission === "denied") {
      button.hidden = true;
      state.textContent = "Browser notifications are blocked for this site in your browser's settings.";
    } else {
      button.textContent = "Turn on browser notifications";
      state.textContent = "";
    }
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-notify-enable]");
    if (!button || typeof Notification !== "function") { return; }
    if (Notification.permission === "granted" && alertsOn()) {
      try { window.localStorage.removeItem(ALERTS_KEY); } catch (err) { /* private mode */ }
      showAlertState();
      return;
    }
    Notification.requestPermission().then(function (p) {
      if (p === "granted") {
        try { window.localStorage.setItem(ALERTS_KEY, "on"); } catch (err) { /* private mode */ }
      }
      showAlertState();
    });
  });

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
    showAlertState();
    var el = document.querySelector("[data-live]");
    if (el) { listen(el.getAttribute("data-live")); }
  });
})();

// ---- Keyboard shortcuts ----------------------------------------------------
// On the inbox: j/k select the next/previous conversation (its link takes the
// focus, so Enter opens it), / focuses the search. On a conversation, or the
// list's selected row: e closes, # archives, a assigns to me, u marks
// read/unread, l goes to the labels, n to the note. ? shows the list (#shortcuts, a <dialog>; Escape closes it and the
// focus goes back). Every key presses a control the page shows, through its own
// form: no rule lives here. Nothing happens while typing in a field, or with
// Ctrl, Alt or Meta held (those are the browser's).
(function () {
  "use strict";

  var selectedID = "";
  var returnFocus = null;

  function typing(el) {
    if (!el || el === document.body) { return false; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#conversation-list tr.conversation-row"));
  }

  function rowLink(row) { return row.querySelector("td.visitor a"); }

  function mark(row) {
    var all = rows();
    for (var i = 0; i < all.length; i++) {
      all[i].classList.remove("is-selected");
    }
    if (!row) { selectedID = ""; return; }
    row.classList.add("is-selected");
    selectedID = row.getAttribute("data-id") || "";
  }

  function current() {
    var all = rows();
    for (var i = 0; i < all.length; i++) {
      if (all[i].contains(document.activeElement) || all[i].getAttribute("data-id") === selectedID) { return i; }
    }
    return -1;
  }

  function move(delta) {
    var all = rows();
    if (!all.length) { return; }
    var at = current();
    var next = at < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + delta));
    mark(all[next]);
    var link = rowLink(all[next]);
    if (link) { link.focus(); }
  }

  // press clicks the page's own control, if the page shows it (a role without it, or a
  // state that does not offer it, has none, and the key does nothing).
  function press(id) {
    var el = document.getElementById(id);
    if (!el || el.disabled) { return false; }
    el.click();
    return true;
  }

  function selectedRow() {
    var at = current();
    return at < 0 ? null : rows()[at];
  }

  function say(text) {
    var box = document.getElementById("alerts");
    if (!box) { return; }
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    box.replaceChildren(p);
  }

  function newKey() {
    var b = new Uint8Array(18);
    window.crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // onRow sends the selected row's conversation what its page's form sends (to the same
  // endpoint, with the page's CSRF token); the server decides, and a refusal is shown in
  // words. The list then shows the change (and the live update follows).
  function onRow(action, fields) {
    var row = selectedRow();
    var link = row && rowLink(row);
    if (!link) { return false; }
    var meta = document.querySelector('meta[name="csrf-token"]');
    var body = new URLSearchParams(fields);
    if (action === "state" || action === "assignee") { body.set("idempotency_key", newKey()); }
    fetch(link.pathname + "/" + action, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": meta ? meta.getAttribute("content") : "", "HX-Request": "true" }
    }).then(function (res) {
      return res.text().then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var err = doc.querySelector('p.error[role="alert"]');
        if (!res.ok) {
          say(err ? err.textContent.trim() : "The server answered " + res.status + ". Reload the page and try again.");
        }
        var list = document.getElementById("conversation-list");
        if (list && window.htmx && list.getAttribute("data-live-refresh")) {
          window.htmx.ajax("GET", list.getAttribute("data-live-refresh"), { target: "#conversation-list", swap: "outerHTML settle:0ms" });
        }
      });
    }, function () { say("The server could not be reached. Check your connection and try again."); });
    return true;
  }

  // toRow opens the selected row's conversation at one of its parts (#labels, #note-text).
  function toRow(part) {
    var row = selectedRow();
    var link = row && rowLink(row);
    if (!link) { return false; }
    window.location.href = link.href + "#" + part;
    return true;
  }

  function focusOn(el) {
    if (!el) { return false; }
    el.focus();
    return true;
  }

  function dialog() { return document.getElementById("shortcuts"); }

  function openHelp() {
    var d = dialog();
    if (!d || d.open || typeof d.showModal !== "function") { return; }
    returnFocus = document.activeElement;
    d.showModal();
    var close = d.querySelector("[data-shortcuts-close]");
    if (close) { close.focus(); }
  }

  function search() {
    if (focusOn(document.getElementById("f-q"))) { return; }
    var back = document.querySelector(".back a");
    if (back) { window.location.href = back.getAttribute("href") + "#f-q"; }
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    if (typing(e.target)) { return; }
    var d = dialog();
    if (d && d.open) { return; } // the dialog's own keys: Tab, Escape
    var handled = true;
    switch (e.key) {
    case "j": move(1); break;
    case "k": move(-1); break;
    case "Enter":
      // A focused link or button does its own Enter; otherwise open the selected row.
      handled = false;
      if (e.target.closest && e.target.closest("a, button, summary")) { break; }
      var at = current();
      if (at >= 0) {
        var link = rowLink(rows()[at]);
        if (link) { window.location.href = link.href; handled = true; }
      }
      break;
    case "e": handled = press("move-closed") || onRow("state", { state: "closed" }); break;
    case "#": handled = press("move-archived") || onRow("state", { state: "archived" }); break;
    case "a":
      var me = document.querySelector("#conversation-list[data-me]");
      handled = press("assign-me") || (me !== null && onRow("assignee", { assignee: me.getAttribute("data-me") }));
      break;
    case "u":
      var row = selectedRow();
      handled = press("mark-read") || press("mark-unread") ||
        (row !== null && onRow(row.classList.contains("is-unread") ? "read" : "unread", {}));
      break;
    case "l": handled = focusOn(document.querySelector("#labels input[type=checkbox]")) || toRow("labels"); break;
    case "n": handled = focusOn(document.getElementById("note-text")) || toRow("note-text"); break;
    case "/": search(); break;
    case "?": openHelp(); break;
    default: handled = false;
    }
    if (handled) { e.preventDefault(); }
  });

  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : null;
    if (!t) { return; }
    if (t.closest("[data-shortcuts-open]")) { openHelp(); }
    if (t.closest("[data-shortcuts-close]")) { var d = dialog(); if (d) { d.close(); restoreFocus(); } }
  });

  // Whichever way the dialog closes (Escape, Close), the focus goes back where it was.
  function restoreFocus() {
    if (returnFocus && document.contains(returnFocus)) { returnFocus.focus(); }
    returnFocus = null;
  }
  document.addEventListener("close", function (e) {
    if (e.target === dialog()) { restoreFocus(); }
  }, true);

  // A live refresh replaces the list: the selection (and the focus, if it was on it) stays
  // on the same conversation.
  document.addEventListener("htmx:afterSettle", function () {
    if (!selectedID) { return; }
    var list = document.getElementById("conversation-list");
    var row = list && list.querySelector('tr.conversation-row[data-id="' + selectedID + '"]');
    if (!row) { return; }
    mark(row);
    if (document.activeElement === document.body || document.activeElement === null) {
      var link = rowLink(row);
      if (link) { link.focus(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-shortcuts-open]");
    for (var i = 0; i < buttons.length; i++) {
      if (dialog() && typeof dialog().showModal === "function") { buttons[i].hidden = false; }
    }
    // Arriving from the list's / , l or n: the part the key named takes the focus.
    switch (window.location.hash) {
    case "#f-q": focusOn(document.getElementById("f-q")); break;
    case "#labels": focusOn(document.querySelector("#labels input[type=checkbox]")); break;
    case "#note-text": focusOn(document.getElementById("note-text")); break;
    }
  });
})();

// ---- Inbox: bulk selection --------------------------------------------------
// "Select this page" ticks every row's box; the form (#bulk-form) sends the
// ticked rows, or with "All N matching these filters" the list's filters. The
// server decides everything else.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("input[data-bulk-page]")) { return; }
    var rows = document.querySelectorAll("input[name=ids][form=bulk-form]");
    for (var i = 0; i < rows.length; i++) { rows[i].checked = box.checked; }
  });
})();
