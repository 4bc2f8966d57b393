// A quiz question's countdown. The server sends the seconds left on its own clock
// (data-remaining, as it rendered the fragment), so the phone's clock never decides:
// this counts them down from when the element appeared, and says "time is up" at 0.
// The next poll brings the server's own "time is up". A file, not an inline script:
// the CSP allows only scripts served by the app.
(function () {
  "use strict";

  function tick() {
    var now = performance.now();
    var clocks = document.querySelectorAll("[data-remaining]");
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i];
      if (!clock.quizEnds) {
        clock.quizEnds = now + parseFloat(clock.getAttribute("data-remaining")) * 1000;
      }
      var left = Math.max(0, Math.ceil((clock.quizEnds - now) / 1000));
      var seconds = clock.querySelector("[data-seconds]");
      if (seconds && seconds.textContent !== String(left)) seconds.textContent = String(left);
      if (left === 0 && !clock.hasAttribute("data-time-up")) {
        clock.setAttribute("data-time-up", "");
        var label = clock.querySelector("[data-clock-label]");
        if (label) label.textContent = clock.getAttribute("data-up-text");
      }
    }
  }

  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
})();
