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

  // localTimes rewrites the server's UTC text of each <time data-local>
  // under root into the viewer's time zone; the exact time stays in title.
  function localTimes(root) {
    var nodes = (root || document).querySelectorAll("time[datetime][data-local]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) { continue; }
      var kind = el.getAttribute("data-local");
      el.textContent = kind === "relative" ? ago(date) : (formats[kind] || formats.datetime).format(date);
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

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); });
  document.addEventListener("htmx:oobAfterSwap", function (e) { localTimes(e.target); });

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
