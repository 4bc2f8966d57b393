// The presenter view's keyboard shortcuts. Each key clicks a button (or link) of
// the control bar (which htmx or a plain form post sends), so the keyboard does
// exactly what the buttons do. A file, not an inline script: the CSP
// allows only scripts served by the app.
(function () {
  "use strict";

  function click(name) {
    var button = document.querySelector('[data-shortcut="' + name + '"]');
    if (button && !button.disabled) button.click();
  }

  function toggle(id) {
    var element = document.getElementById(id);
    if (element) element.hidden = !element.hidden;
  }

  function fullScreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () { /* refused: stay */ });
    }
  }

  var KEYS = {
    ArrowRight: function () { click("next"); },
    " ": function () { click("next"); },
    ArrowLeft: function () { click("previous"); },
    r: function () { click("results"); },
    c: function () { click("voting"); },
    q: function () { toggle("qr"); },
    a: function () { click("qna"); },
    f: fullScreen,
    "?": function () { toggle("shortcuts"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    // Typing in a field, or Space/Enter on a focused button, keeps its meaning.
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === " " && target.closest && target.closest("button, a")) return;
    var action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest('[data-shortcut="help"]')) toggle("shortcuts");
  });
})();
