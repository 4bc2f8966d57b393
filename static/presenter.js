// The presenter view's keyboard shortcuts. Each key clicks a button (or link) of
// the control bar (which htmx or a plain form post sends), so the keyboard does
// exactly what the buttons do; a clicker's keys (PageDown, PageUp, B or ".") too.
// The projected view is the audience's: once the pointer rests IDLE_MS, the body
// gets `pointer-idle` and events.css hides the controls (all but one a keyboard
// user focuses); a pointer move shows them again. A file, not an inline script:
// the CSP allows only scripts served by the app.
(function () {
  "use strict";

  var IDLE_MS = 3000;
  var idleTimer = null;

  function wake() {
    document.body.classList.remove("pointer-idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { document.body.classList.add("pointer-idle"); }, IDLE_MS);
  }

  function blank() {
    var screen = document.getElementById("blank-screen");
    if (screen) screen.hidden = !screen.hidden;
  }

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
    PageDown: function () { click("next"); },
    ArrowLeft: function () { click("previous"); },
    PageUp: function () { click("previous"); },
    b: blank,
    ".": blank,
    r: function () { click("results"); },
    c: function () { click("voting"); },
    s: function () { click("next"); },
    k: function () { click("skip"); },
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

  document.addEventListener("pointermove", wake);
  document.addEventListener("pointerdown", wake);
  wake();

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest('[data-shortcut="help"]')) toggle("shortcuts");
  });
})();
