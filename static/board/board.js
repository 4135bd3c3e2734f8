// The board's live part: htmx polls /board/ every 2 s with the last ETag; a 304 keeps the table as it is.
// Ages ("12 s ago") tick here between polls, against the server's clock, so an unchanged board stays true.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var etag = board.dataset.etag || null;
  var offset = parseFloat(board.dataset.now) - Date.now() / 1000; // server time minus browser time

  // hapanel/durations.py's rules, so a ticking age reads as the server wrote it; tests/board/test_rendering.py
  // runs both over one table.
  function humanize(s) {
    s = Math.max(0, s);
    if (s < 10) return s.toFixed(1) + " s";
    s = Math.floor(s);
    if (s < 60) return s + " s";
    if (s < 3600) return s < 600 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }

  function tick() {
    var now = Date.now() / 1000 + offset;
    document.querySelectorAll(".age[data-at]").forEach(function (el) {
      var at = parseFloat(el.dataset.at);
      if (!isNaN(at)) el.textContent = humanize(now - at);
    });
  }

  document.body.addEventListener("htmx:configRequest", function (e) {
    if (etag && e.detail.elt === board) e.detail.headers["If-None-Match"] = etag;
  });
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    var serverNow = parseFloat(xhr.getResponseHeader("X-Server-Time"));
    if (!isNaN(serverNow)) offset = serverNow - Date.now() / 1000;
    if (xhr.status === 304) { e.detail.shouldSwap = false; return; }
    if (xhr.status === 200 && e.detail.elt === board) etag = xhr.getResponseHeader("ETag");
  });
  document.body.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
