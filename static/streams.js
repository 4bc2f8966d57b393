// Event streams (htmx's SSE extension, webapp/push/): a page that cannot keep
// its stream polls instead, as it would with no stream at all.
// A stream that is refused (503: too many here; a proxy that answers
// something else), that fails before it said anything, or that stays silent
// (a proxy buffering it: every stream says "hello" at once) is closed, and
// each element's data-poll-trigger becomes its hx-trigger: the polling the
// page's fragments carry when rendered for a page without a stream.
(function () {
  "use strict";

  var SILENT_MS = 5000;
  var polling = false;
  var heard = false; // a message on the current connection

  function startPolling(root) {
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-poll-trigger]"));
    if (root.hasAttribute && root.hasAttribute("data-poll-trigger")) found.push(root);
    found.forEach(function (el) {
      el.setAttribute("hx-trigger", el.getAttribute("data-poll-trigger"));
      el.removeAttribute("data-poll-trigger");
      htmx.process(el);
    });
  }

  function pollInstead(source) {
    if (polling) return;
    polling = true;
    if (source) source.close();
    document.querySelectorAll("[sse-connect]").forEach(function (el) {
      el.removeAttribute("sse-connect"); // the extension's own retry then finds nothing to open
    });
    document.documentElement.setAttribute("data-polling", "");
    startPolling(document);
  }

  function watch(source) {
    heard = false;
    if (!source.votingGameWatched) {
      source.votingGameWatched = true;
      source.addEventListener("hello", function () { heard = true; });
    }
    setTimeout(function () { if (!heard) pollInstead(source); }, SILENT_MS);
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    watch(event.detail.source);
  });
  document.addEventListener("htmx:sseError", function (event) {
    var source = event.detail.source;
    // The browser reconnects by itself (with Last-Event-ID) after a stream that
    // worked ends, e.g. its server stopping; anything else: poll.
    if (source.readyState === EventSource.CLOSED || !heard) pollInstead(source);
    heard = false;
  });
  // What is swapped in later (a control's answer) polls too, once the page does.
  document.addEventListener("htmx:load", function (event) {
    if (polling) startPolling(event.detail.elt);
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[sse-connect]")) return;
    // No answer at all (the connection hangs): poll.
    setTimeout(function () { if (!heard && !polling) pollInstead(null); }, 2 * SILENT_MS);
  });
})();
