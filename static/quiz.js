// A quiz question's countdown, and the projector's to a topic's deadline. The server
// sends the seconds left on its own clock (data-remaining, as it rendered the
// fragment), so the phone's clock never decides: this counts them down from when
// the element appeared, and says "time is up" at 0.
// The next push (or poll) brings the server's own "time is up". A pushed stage was
// rendered once for every phone, maybe a while ago (a reconnecting page catches up
// with it): the phone's own part, asked for after it, brings the seconds left as
// the server counts them then (data-clock-sync), and the clock counts from those.
// A file, not an inline script: the CSP allows only scripts served by the app.
(function () {
  "use strict";

  // A topic's deadline can be hours away: m:ss (data-minutes) rather than seconds.
  function minutes(left) {
    var rest = left % 60;
    return Math.floor(left / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var now = performance.now();
    var syncs = document.querySelectorAll("[data-clock-sync]");
    for (var s = 0; s < syncs.length; s++) {
      var sync = syncs[s];
      if (sync.quizSynced) continue;
      sync.quizSynced = true;
      var stage = sync.closest("#stage") || document;
      var own = stage.querySelector("[data-remaining]");
      if (own) own.quizEnds = now + parseFloat(sync.getAttribute("data-clock-sync")) * 1000;
    }
    var clocks = document.querySelectorAll("[data-remaining]");
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i];
      if (!clock.quizEnds) {
        clock.quizEnds = now + parseFloat(clock.getAttribute("data-remaining")) * 1000;
      }
      var left = Math.max(0, Math.ceil((clock.quizEnds - now) / 1000));
      var seconds = clock.querySelector("[data-seconds]");
      var text = clock.hasAttribute("data-minutes") ? minutes(left) : String(left);
      if (seconds && seconds.textContent !== text) seconds.textContent = text;
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
  // What a stream swaps in (htmx's SSE extension) is processed, and so loaded.
  document.addEventListener("htmx:load", tick);
})();
