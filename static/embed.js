/* The event embed's memory without third-party cookies (webapp/event_embed.py).
 *
 * A cross-site iframe keeps no cookie of ours, so the page carries its voter id
 * in its URLs (data-embed-voter). This keeps that id in localStorage, which
 * browsers give a frame per embedding site, and brings it back on the next
 * visit: the first load without a `voter` in its URL swaps itself, once, for
 * the same URL with the remembered one. Without storage it simply votes as a
 * new voter each visit.
 */
(function () {
  "use strict";
  var KEY = "voting-game-voter";
  var holder = document.querySelector("[data-embed-voter]");
  if (!holder) return;
  var store;
  try { store = window.localStorage; } catch (e) { return; /* storage blocked */ }
  var url = new URL(window.location.href);
  var kept = store.getItem(KEY);
  if (kept && !url.searchParams.get("voter") && kept !== holder.dataset.embedVoter) {
    url.searchParams.set("voter", kept);
    window.location.replace(url.toString());
    return;
  }
  store.setItem(KEY, holder.dataset.embedVoter);
})();
