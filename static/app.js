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

  // The server's own words when the error answer carries them
  // (templates mark them with data-error-message), else a plain sentence.
  function messageFrom(xhr) {
    var fallback = "Something went wrong (" + xhr.status + "). Please try again.";
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
  document.addEventListener("htmx:sendError", function () {
    say("Could not reach the server. Check your connection; we will keep trying.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) clear();
  });

  // Share buttons: the system share sheet on phones, the clipboard elsewhere.
  function setUpShare(button) {
    var canShare = typeof navigator.share === "function";
    var canCopy = navigator.clipboard && typeof navigator.clipboard.writeText === "function";
    if (!canShare && !canCopy) return; // the link text stays, the button stays hidden
    button.hidden = false;
    if (!canShare) button.textContent = "Copy link";
    button.addEventListener("click", function () {
      var url = button.dataset.shareUrl;
      if (canShare) {
        navigator.share({ title: button.dataset.shareTitle, url: url }).catch(function () {});
        return;
      }
      navigator.clipboard.writeText(url).then(
        function () { button.textContent = "Link copied"; },
        function () { say("Could not copy the link; copy it from the text above."); }
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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share-url]").forEach(setUpShare);
  });
})();
