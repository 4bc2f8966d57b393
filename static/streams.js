// Event streams (htmx's SSE extension, webapp/push/): a page that cannot keep
// its stream polls instead, as it would with no stream at all.
// A stream that is refused (503: too many here; a proxy that answers
// something else), whose connections fail three times in a row before it said
// anything, or that stays silent (a proxy buffering it: every stream says
// "hello" at once) is closed, and
// each element's data-poll-trigger becomes its hx-trigger: the polling the
// page's fragments carry when rendered for a page without a stream.
(function () {
  "use strict";

  var SILENT_MS = 5000;
  var ATTEMPTS = 3; // connections in a row that fail before saying hello: then poll
  var polling = false;
  var heard = false; // a message on the current connection
  var everHeard = false;
  var failed = 0;

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
      source.addEventListener("hello", function () { heard = everHeard = true; failed = 0; });
    }
    setTimeout(function () { if (!heard) pollInstead(source); }, SILENT_MS);
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    watch(event.detail.source);
  });
  document.addEventListener("htmx:sseError", function (event) {
    var source = event.detail.source;
    // The browser reconnects by itself (with Last-Event-ID) after a stream ends or
    // a connection fails, e.g. its server stopping: a few tries, then poll. A
    // refusal (503, or not an event stream) closes the stream: poll at once.
    if (!heard) failed += 1;
    if (source.readyState === EventSource.CLOSED || failed >= ATTEMPTS) pollInstead(source);
    heard = false;
  });
  // What is swapped in later (a control's answer) polls too, once the page does.
  document.addEventListener("htmx:load", function (event) {
    if (polling) startPolling(event.detail.elt);
  });
  // A pushed stage is the same for every phone: it holds no vote of this
  // browser. Where this browser has one to show (a vote it cast on that
  // question, or a topic that shows each voter their counted ballot), it asks
  // for its own vote fragment, through the ballot's own URL.
  var votedOn = {};

  document.addEventListener("htmx:afterRequest", function (event) {
    var asked = event.detail.requestConfig;
    if (asked && asked.elt) asked.elt.ownFetch = false;
    if (event.detail.xhr.status !== 202) return; // a vote accepted
    var question = document.querySelector("#stage [data-memory-key]");
    if (question) votedOn[question.getAttribute("data-memory-key")] = true;
  });

  document.addEventListener("htmx:load", function (event) {
    var stage = event.detail.elt;
    if (!stage || stage.id !== "stage" || !stage.hasAttribute("data-pushed")) return;
    var question = stage.querySelector("[data-memory-key]");
    var form = stage.querySelector("form.ballot");
    if (!question || !form) return;
    if (!question.hasAttribute("data-own-ballot") &&
        !votedOn[question.getAttribute("data-memory-key")]) return;
    // The embed remembers its vote in its URL (vote, for); its voter goes in a header (embed.js).
    var params = new URLSearchParams(location.search), values = {};
    ["vote", "for"].forEach(function (name) {
      if (params.get(name)) values[name] = params.get(name);
    });
    // Into this stage's own vote fragment: if a vote is cast meanwhile, its answer
    // replaces the fragment, and this older answer has nowhere to go.
    form.ownFetch = true;
    htmx.ajax("GET", form.getAttribute("action"), { source: form,
              target: stage.querySelector("#vote"), swap: "outerHTML", values: values });
  });

  // A quiz question's player part (nickname, answer in, outcome, rank) is this
  // browser's own too: a pushed stage leaves it empty, with the URL of its own.
  document.addEventListener("htmx:load", function (event) {
    var stage = event.detail.elt;
    if (!stage || stage.id !== "stage" || !stage.hasAttribute("data-pushed")) return;
    var mine = stage.querySelector("#quiz-me[data-own-url]");
    if (!mine) return;
    htmx.ajax("GET", mine.getAttribute("data-own-url"),
              { source: mine, target: mine, swap: "outerHTML" });
  });

  // A pushed Q&A list (the event stream's qna region) is the same for every phone:
  // no upvote pressed. This browser's list around it says which of the listed it
  // upvoted (data-upvoted, drawn for it at load and by each tap's answer): those
  // buttons are pressed again here, each then withdrawing, as when drawn for it.
  document.addEventListener("htmx:load", function (event) {
    var room = event.detail.elt;
    if (!room || room.id !== "qna-room" || !room.hasAttribute("data-pushed")) return;
    var list = room.closest("#qna-list"), upvoted = [];
    try { upvoted = JSON.parse(list.getAttribute("data-upvoted")) || []; } catch (e) { upvoted = []; }
    upvoted.forEach(function (id) {
      var button = room.querySelector('[id="qna-up-' + id + '"]');
      if (!button || button.getAttribute("aria-pressed") === "true") return;
      button.setAttribute("aria-pressed", "true");
      var field = document.createElement("input");
      field.type = "hidden"; field.name = "withdraw"; field.value = "1";
      button.parentNode.insertBefore(field, button);
    });
  });

  // A pushed form holds no token (it is the same for every browser): the page's
  // is in the hx-headers around it. Submitted before htmx has taken it over (a
  // tap in the moment after a swap), the browser posts it itself: it then
  // carries the page's token as a field, as a form rendered for this page does.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A vote cast while the form's own fragment is on its way: htmx queues the vote
    // behind that request on the same form, and would drop it once that answer
    // replaced the form. So that answer is not swapped in, and the vote then leaves.
    if (form && form.ownFetch) form.ownFetchStale = true;
    if (!form || !form.closest || form.querySelector('[name="csrf_token"]')) return;
    for (var el = form.closest("[hx-headers]"); el; el = el.parentElement &&
         el.parentElement.closest("[hx-headers]")) {
      var token;
      try { token = JSON.parse(el.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { token = null; }
      if (!token) continue;
      var field = document.createElement("input");
      field.type = "hidden"; field.name = "csrf_token"; field.value = token;
      form.appendChild(field);
      return;
    }
  }, true);

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && !document.body.contains(target)) event.detail.shouldSwap = false;
    var asked = event.detail.requestConfig; // elt: the element that asked
    if (asked && asked.elt && asked.elt.ownFetchStale && asked.verb === "get") {
      asked.elt.ownFetchStale = false;
      event.detail.shouldSwap = false;
    }
  });

  // An answer begun on a ballot and not sent, when the presenter moves on: the new
  // stage says so (the question's title, in the page's language: data-unsent), rather
  // than let the phone believe it answered. A reveal or a count never replaces the stage.
  var unsent = null; // the title of the question left with an answer begun on it
  function noteBegun(event) {
    var form = event.target.closest && event.target.closest("#stage form.ballot");
    if (form) form.begun = true;
  }
  document.addEventListener("input", noteBegun);
  document.addEventListener("change", noteBegun);
  document.addEventListener("submit", function (event) {
    if (event.target) event.target.begun = false;
  }, true);
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var stage = event.detail.elt;
    if (!stage || stage.id !== "stage") return;
    var form = stage.querySelector("form.ballot"), title = stage.querySelector("#question");
    var question = stage.querySelector("[data-memory-key]");
    unsent = form && form.begun && title ? { title: title.textContent.trim(),
      key: question && question.getAttribute("data-memory-key") } : null;
  });
  document.addEventListener("htmx:load", function (event) {
    var stage = event.detail.elt;
    if (!stage || stage.id !== "stage" || !unsent) return;
    var left = unsent;
    unsent = null;
    var question = stage.querySelector("[data-memory-key]");
    if (question && question.getAttribute("data-memory-key") === left.key) return; // the same one
    var live = stage.closest("[data-unsent]");
    if (!live) return;
    var notice = document.createElement("p");
    notice.className = "notice notice-error";
    notice.setAttribute("data-unsent-notice", "");
    notice.textContent = live.getAttribute("data-unsent").replace("%(title)s", left.title);
    stage.insertBefore(notice, stage.firstChild);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.querySelector("[data-voted-on]");
    if (live) {
      try {
        JSON.parse(live.getAttribute("data-voted-on")).forEach(function (key) { votedOn[key] = true; });
      } catch (e) { /* none */ }
    }
    if (!document.querySelector("[sse-connect]")) return;
    // No answer at all (the connection hangs): poll.
    setTimeout(function () { if (!everHeard && !polling) pollInstead(null); }, 2 * SILENT_MS);
  });
})();
