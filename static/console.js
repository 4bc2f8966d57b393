// The presenter console's timer: how long the current question has been on
// screen, counted up every second from the server's timestamp (data-since, UTC)
// on whatever panel the stream or a control last swapped in. A file, not an
// inline script: the CSP allows only scripts served by the app.
(function () {
  "use strict";

  function clock(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor(seconds / 60) % 60;
    var rest = seconds % 60;
    var mm = hours ? (minutes < 10 ? "0" : "") + minutes : String(minutes);
    return (hours ? hours + ":" : "") + mm + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (element) {
      var since = Date.parse(element.getAttribute("data-since"));
      if (isNaN(since)) return;
      element.textContent = clock(Math.max(0, Math.floor((Date.now() - since) / 1000)));
    });
  }

  setInterval(tick, 1000);
  document.addEventListener("htmx:load", tick);
})();
