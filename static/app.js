// Small enhancements on top of htmx; every page works without this file.
// A file, not an inline script: the Content-Security-Policy allows only
// scripts served by the app.
(function () {
  "use strict";

  var messageBox = function () {
    return document.getElementById("client-message");
  };

  function say(text) {
    var box = messageBox();
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  function clear() {
    var box = messageBox();
    if (box && !box.hidden) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  // A sentence in the page's language: templates/base.html puts each one on
  // the message box (data-failed, data-offline); English if a page has none.
  function phrase(name, english) {
    var box = messageBox();
    return (box && box.getAttribute("data-" + name)) || english;
  }

  // The server's own words when the error answer carries them
  // (templates mark them with data-error-message), else a plain sentence.
  function messageFrom(xhr) {
    var fallback = phrase("failed", "Something went wrong ({status}). Please try again.")
      .replace("{status}", xhr.status);
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") === 0) {
      try {
        var body = JSON.parse(xhr.responseText);
        if (typeof body.detail === "string") return body.detail;
      } catch (e) { /* not JSON after all */ }
      return fallback;
    }
    if (type.indexOf("text/html") !== 0) return fallback;
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var marked = doc.querySelector("[data-error-message]");
    return marked ? marked.textContent.trim() : fallback;
  }

  document.addEventListener("htmx:responseError", function (event) {
    say(messageFrom(event.detail.xhr));
  });
  // A fragment that says its own refusals (data-swaps-refusals: the Q&A panel) shows a
  // rate limit's answer (429) in place too, as base.html has htmx do for 409 and 422.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 429 && target && target.closest &&
        target.closest("[data-swaps-refusals]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    say(phrase("offline", "Could not reach the server. Check your connection; we will keep trying."));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) clear();
  });

  // When copying fails, select the link text so the person can copy it themselves.
  function selectShareUrl(button) {
    var link = button.closest(".share") && button.closest(".share").querySelector(".share-url a");
    if (!link) return;
    var range = document.createRange();
    range.selectNodeContents(link);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    link.focus();
  }

  // Share buttons: the system share sheet on phones, the clipboard elsewhere.
  function setUpShare(button) {
    var canShare = typeof navigator.share === "function";
    var canCopy = navigator.clipboard && typeof navigator.clipboard.writeText === "function";
    if (!canShare && !canCopy) return; // the link text stays, the button stays hidden
    button.hidden = false;
    if (!canShare) button.textContent = button.dataset.copyLabel || "Copy link";
    button.addEventListener("click", function () {
      var url = button.dataset.shareUrl;
      if (canShare) {
        navigator.share({ title: button.dataset.shareTitle, url: url }).catch(function () {});
        return;
      }
      navigator.clipboard.writeText(url).then(
        function () { button.textContent = button.dataset.copiedLabel || "Link copied"; },
        function () { selectShareUrl(button); }
      );
    });
  }

  // Keyboard shortcuts of the present view ("R" reveals or hides results):
  // a link marked data-key="r" is followed when its key is pressed outside a field.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var link = document.querySelector('a[data-key="' + event.key.toLowerCase() + '"]');
    if (link) link.click();
  });

  // -- live results ---------------------------------------------------------
  // One persistent polite region hears a one-line summary of the results
  // (the partial's data-summary), at most every 10 s: never the whole list.
  var SUMMARY_EVERY_MS = 10000;
  var lastSummaryAt = 0;
  var summaryTimer = null;
  var lastSummary = null; // what the page said when it loaded is not news

  function announceResults() {
    var results = document.getElementById("results");
    var region = document.getElementById("results-announcer");
    if (!results || !region) return;
    var text = results.getAttribute("data-summary") || "";
    if (!text || text === lastSummary) return;
    var wait = lastSummaryAt + SUMMARY_EVERY_MS - Date.now();
    if (wait > 0) {
      if (!summaryTimer) {
        summaryTimer = setTimeout(function () { summaryTimer = null; announceResults(); }, wait);
      }
      return;
    }
    lastSummaryAt = Date.now();
    lastSummary = text;
    region.textContent = text;
  }

  // The results poll learned the topic closed: close the ballot on this page
  // too, so no one taps a button that can only be refused.
  function closeBallot() {
    var ballot = document.querySelector("form.ballot");
    if (!ballot) return;
    var choices = ballot.querySelector("fieldset.choices");
    if (choices) choices.disabled = true;
    var notice = ballot.querySelector("[data-closed-notice]");
    if (notice) notice.hidden = false;
    ballot.querySelectorAll("[data-closed-hide]").forEach(function (el) { el.hidden = true; });
  }

  // Voting opened again on the question on screen: the ballot too (unless
  // this voter's one vote is already in: data-voted).
  function openBallot() {
    var ballot = document.querySelector("form.ballot");
    if (!ballot) return;
    var choices = ballot.querySelector("fieldset.choices");
    if (choices && !choices.hasAttribute("data-voted")) choices.disabled = false;
    var notice = ballot.querySelector("[data-closed-notice]");
    if (notice) notice.hidden = true;
    ballot.querySelectorAll("[data-closed-hide]").forEach(function (el) { el.hidden = false; });
  }

  // A vote's final state (counted, rejected, replaced), said once.
  function announceVote(status) {
    var region = document.getElementById("vote-announcer");
    if (!region || !status.hasAttribute("data-final")) return;
    var copy = status.cloneNode(true); // its words, without icons and <noscript>
    copy.querySelectorAll('[aria-hidden="true"], noscript').forEach(function (n) { n.remove(); });
    var text = copy.textContent.replace(/\s+/g, " ").trim();
    if (region.textContent !== text) region.textContent = text;
  }

  // Focus after swaps that remove what had it: a removed choice row hands
  // focus to the next row's field (or "Add another choice").
  document.addEventListener("htmx:beforeSwap", function (event) {
    var row = event.detail.target;
    if (!row || !row.classList || !row.classList.contains("choice-row")) return;
    var next = nearestField(row) || document.querySelector('button[name="add"]');
    // The row leaves the document, so no later htmx event reaches us: focus
    // once the swap (synchronous after this event) is done.
    if (next) setTimeout(function () { next.focus(); }, 0);
  });

  function nearestField(row) {
    var el, field;
    for (el = row.nextElementSibling; el; el = el.nextElementSibling) {
      if ((field = el.querySelector(".choice-input"))) return field;
    }
    for (el = row.previousElementSibling; el; el = el.previousElementSibling) {
      if ((field = el.querySelector(".choice-input"))) return field;
    }
    return null;
  }

  // After any swap (all of these are idempotent and cheap).
  document.addEventListener("htmx:afterSettle", function () {
    var wantsFocus = document.querySelector("[data-autofocus]");
    if (wantsFocus) {
      wantsFocus.removeAttribute("data-autofocus");
      wantsFocus.focus();
    }
    var results = document.getElementById("results");
    if (results) {
      announceResults();
      if (results.hasAttribute("data-closed")) closeBallot();
    }
    // An event's stage says in its status whether voting is open: the ballot
    // follows without being replaced (a phone may be filling it in).
    var stageStatus = document.getElementById("stage-status");
    if (stageStatus) {
      if (stageStatus.hasAttribute("data-closed")) closeBallot(); else openBallot();
    }
    var status = document.getElementById("vote-status");
    if (status) announceVote(status);
  });

  // -- ballots of the other question types (templates/ballots/) --------------
  // Each works as a plain form without this; here only conveniences.

  // Multiple select: once the most allowed are ticked, the rest wait.
  function limitChoices(box) {
    var most = parseInt(box.getAttribute("data-max-choices"), 10);
    var inputs = box.querySelectorAll('input[type="checkbox"]');
    if (!most || most >= inputs.length) return;
    var ticked = box.querySelectorAll('input[type="checkbox"]:checked').length;
    inputs.forEach(function (input) { input.disabled = !input.checked && ticked >= most; });
  }

  // Ranking: the ranked choices are a list in rank order (1, 2, 3... without
  // gaps), the rest unranked after them as listed. Choosing a rank moves the
  // choice there and shifts the others; "Not ranked" takes it out. A select
  // offers only the ranks the list can hold now (a choice cannot be 3rd
  // while nothing is 2nd). Once all but one of a full ranking are ranked, the
  // last one is ranked last: it can be nowhere else. Vote waits until the
  // ballot holds the ranks the topic asks for (data-rank-need).
  function rankSelect(item) { return item.querySelector(".rank-select"); }

  function rankedItems(list) {
    var items = Array.prototype.filter.call(list.children, function (item) {
      return rankSelect(item).value;
    });
    return items.sort(function (a, b) {
      return parseInt(rankSelect(a).value, 10) - parseInt(rankSelect(b).value, 10);
    });
  }

  function placeRanks(list, ranked, chosen) {
    var items = Array.prototype.slice.call(list.children);
    var top = rankSelect(items[0]).options.length - 1;
    ranked = ranked.slice(0, top);
    var rest = items.filter(function (item) { return ranked.indexOf(item) < 0; });
    if (chosen && top === items.length && rest.length === 1) ranked.push(rest.pop());
    rest.sort(function (a, b) {
      return parseInt(a.getAttribute("data-listed"), 10) - parseInt(b.getAttribute("data-listed"), 10);
    });
    ranked.forEach(function (item, n) { rankSelect(item).value = String(n + 1); });
    rest.forEach(function (item) { rankSelect(item).value = ""; });
    // Moved only when out of order: moving a node takes the focus from inside it.
    var order = ranked.concat(rest);
    if (order.some(function (item, n) { return list.children[n] !== item; })) {
      order.forEach(function (item) { list.appendChild(item); });
    }
    showRanks(list);
  }

  function showRanks(list) {
    var items = Array.prototype.slice.call(list.children);
    var ranked = rankedItems(list).length;
    var top = rankSelect(items[0]).options.length - 1;
    items.forEach(function (item) {
      var select = rankSelect(item);
      var most = select.value ? ranked : Math.min(ranked + 1, top);
      Array.prototype.forEach.call(select.options, function (option) {
        option.disabled = option.value !== "" && parseInt(option.value, 10) > most;
      });
    });
    var need = parseInt(list.getAttribute("data-rank-need"), 10) || items.length;
    var form = list.closest("form");
    var vote = form && form.querySelector(".button-vote");
    var progress = form && form.querySelector("[data-rank-progress]");
    if (progress) {
      progress.textContent = progress.getAttribute("data-rank-progress").replace("{ranked}", String(ranked));
      progress.hidden = false;
    }
    if (vote) {
      vote.disabled = ranked < need;
      if (progress) vote.setAttribute("aria-describedby", progress.id);
    }
  }

  function rankChanged(select) {
    var item = select.closest(".rank-item");
    var list = item.parentNode;
    var ranked = rankedItems(list).filter(function (other) { return other !== item; });
    if (select.value) {
      ranked.splice(Math.min(parseInt(select.value, 10) - 1, ranked.length), 0, item);
    }
    placeRanks(list, ranked, Boolean(select.value));
    select.focus();
  }

  // Up and Down move a choice by one place; Up ranks an unranked one last,
  // Down takes the last ranked one out of the ranking.
  function moveRank(button) {
    var item = button.closest(".rank-item");
    var list = item.parentNode;
    var ranked = rankedItems(list);
    var at = ranked.indexOf(item);
    var up = button.getAttribute("data-move") === "up";
    var top = rankSelect(item).options.length - 1;
    if (at < 0) {
      if (!up) return;
      ranked.splice(Math.min(ranked.length, top - 1), 0, item);
    } else {
      ranked.splice(at, 1);
      if (up || at < ranked.length) ranked.splice(Math.max(at + (up ? -1 : 1), 0), 0, item);
    }
    placeRanks(list, ranked, at < 0);
    button.focus();
  }

  // Text: "42 of 60 characters left" as the voter types (the hint says the limit otherwise).
  function countText(input) {
    var hint = document.getElementById(input.getAttribute("aria-describedby"));
    var template = hint && hint.getAttribute("data-counter");
    if (!template) return;
    var left = parseInt(input.getAttribute("maxlength"), 10) - input.value.length;
    hint.textContent = template.replace("{left}", String(Math.max(left, 0)));
  }

  function setUpBallots() {
    document.querySelectorAll("[data-max-choices]").forEach(limitChoices);
    document.querySelectorAll("[data-rank-list]").forEach(function (list) {
      list.querySelectorAll(".rank-moves[hidden]").forEach(function (moves) { moves.hidden = false; });
      placeRanks(list, rankedItems(list), false);
    });
    document.querySelectorAll("#answer-text").forEach(countText);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var box = target.closest && target.closest("[data-max-choices]");
    if (box) limitChoices(box);
    if (target.classList && target.classList.contains("rank-select")) rankChanged(target);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-move]");
    if (button) moveRank(button);
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "answer-text") countText(event.target);
  });
  document.addEventListener("htmx:afterSettle", setUpBallots);

  // The admin's topic form (and the event console's "Add a question"): only
  // the chosen question type's rules are shown, and its choice rows (or
  // choices box) only while the type takes choices (the option's
  // data-choices: always, never, or the id of the rule's checkbox that gives
  // it choices), or while a row holds one. The server renders the same
  // (webapp/admin/type_forms.py); its no-JavaScript "show" button goes.
  function takesChoices(select) {
    var need = select.options[select.selectedIndex].getAttribute("data-choices");
    if (need === "never") return false;
    var rule = need === "always" ? null : document.getElementById(need);
    return !rule || rule.checked;
  }

  function showTypeRules() {
    var select = document.querySelector("[data-type-select]");
    if (!select) return;
    document.querySelectorAll("[data-rules-for]").forEach(function (section) {
      section.hidden = section.getAttribute("data-rules-for") !== select.value;
    });
    document.querySelectorAll("[data-without-js]").forEach(function (el) {
      el.hidden = true;
    });
    var rows = document.querySelector("[data-choice-rows]");
    if (!rows) return;
    var filled = Array.prototype.some.call(rows.querySelectorAll("input, textarea"), function (input) {
      return /^(choice|choice_id|choices)$/.test(input.name) && input.value.trim();
    });
    rows.hidden = rows.disabled = !takesChoices(select) && !filled;
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.hasAttribute) return;
    if (target.hasAttribute("data-type-select") || target.closest("[data-rules-for]")) {
      showTypeRules();
    }
  });

  // -- deadlines in the viewer's own time, with a countdown -------------------
  var lang = document.documentElement.lang || undefined;

  function localiseTimes() {
    document.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = when.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
    });
  }

  function countdownText(ms) {
    var seconds = Math.round(ms / 1000);
    var format = new Intl.RelativeTimeFormat(lang, { numeric: "always" });
    if (seconds < 60) return format.format(seconds, "second");
    if (seconds < 3600) return format.format(Math.round(seconds / 60), "minute");
    if (seconds < 172800) return format.format(Math.round(seconds / 3600), "hour");
    return format.format(Math.round(seconds / 86400), "day");
  }

  function tickCountdowns() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = new Date(el.getAttribute("data-countdown")) - Date.now();
      // At zero the results poll closes the ballot; until then, say how long.
      el.textContent = left > 0 ? " (" + countdownText(left) + ")" : "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share-url]").forEach(setUpShare);
    var results = document.getElementById("results");
    if (results) lastSummary = results.getAttribute("data-summary");
    localiseTimes();
    setUpBallots();
    showTypeRules();
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
  });
})();
