// Emergency access: reveal a password on an explicit click, copy it, hide it again after 30 s (counted down).
(function () {
  "use strict";
  var hideTimers = new WeakMap();

  function hideLater(cell, form) {
    var shown = cell.querySelector(".em-revealed");
    if (!shown) return;
    var seconds = parseInt(shown.getAttribute("data-hide-after"), 10) || 30;
    var countdown = shown.querySelector(".em-countdown");
    // Counted from a fixed end, not by decrements: a throttled background tab still shows the true time left.
    var end = Date.now() + seconds * 1000;
    var ticker = setInterval(function () {
      var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      if (countdown) countdown.textContent = String(left);
    }, 250);
    hideTimers.set(cell, {ticker: ticker, timer: setTimeout(function () {
      clearInterval(ticker);
      cell.textContent = "";
      if (form) cell.appendChild(form);  // the Reveal button again; the secret is gone from the page
    }, seconds * 1000)});
  }

  function stopHiding(cell) {
    var timers = hideTimers.get(cell);
    if (!timers) return;
    clearInterval(timers.ticker);
    clearTimeout(timers.timer);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("em-reveal") || !window.fetch) return;
    event.preventDefault();
    var cell = form.parentNode;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-Emergency-Fetch": "1"}, cache: "no-store"
    }).then(function (response) {
      if (response.redirected || response.status === 403) { window.location.reload(); return null; }
      return response.text();
    }).then(function (html) {
      if (html === null) return;
      stopHiding(cell);
      cell.innerHTML = html;
      hideLater(cell, form);
    }).catch(function () {
      cell.textContent = "The panel did not answer: try again.";
      cell.appendChild(form);
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".em-copy") : null;
    if (!button) return;
    var value = button.parentNode.querySelector(".em-value").textContent;
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(done, function () { button.textContent = "Copy failed"; });
    } else {
      var area = document.createElement("textarea");
      area.value = value; document.body.appendChild(area); area.select();
      try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
    }
  });

  // A secret revealed without JavaScript's help (a plain form post) is hidden the same way.
  document.querySelectorAll(".em-secret").forEach(function (cell) { hideLater(cell, null); });
})();
