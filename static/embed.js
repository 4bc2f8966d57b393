/* The event embed's voter without third-party cookies (webapp/audience/event_embed.py).
 *
 * A cross-site iframe keeps no cookie of ours, so the page hands the frame a
 * token naming its voter (data-embed-voter, signed for this event, expiring).
 * This keeps the token in the frame's storage (browsers give a frame its own per
 * embedding site) and sends it in the X-Embed-Voter header of every htmx
 * request; each answer brings a fresh token, kept in its place. The token is a
 * credential: it never goes into a URL. Without storage the frame votes as the
 * page's voter until it is reloaded.
 */
(function () {
  "use strict";
  var HEADER = "X-Embed-Voter";
  var holder = document.querySelector("[data-embed-voter]");
  if (!holder || !window.htmx) return;
  var key = "voting-game-voter:" + holder.dataset.embedScope;
  var token = holder.dataset.embedVoter;
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; /* storage blocked */ }

  function keep(fresh) {
    token = fresh;
    try { if (store) store.setItem(key, fresh); } catch (e) { /* full or blocked */ }
  }

  var kept = null;
  try { kept = store && store.getItem(key); } catch (e) { kept = null; }
  document.body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers[HEADER] = token;
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var fresh = event.detail.xhr && event.detail.xhr.getResponseHeader(HEADER);
    if (fresh) keep(fresh);
  });
  if (kept && kept !== token) {
    // This page was drawn for a new voter: draw the stage again for the one kept.
    token = kept;
    var stage = document.getElementById("stage");
    if (stage) {
      window.htmx.ajax("GET", stage.getAttribute("hx-get"),
                       {source: stage, target: stage, swap: "outerHTML"});
    }
  } else {
    keep(token);
  }
})();
