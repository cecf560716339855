/* Folding on narrow screens (WCAG 1.4.10 reflow): the main menu behind a "Menu" button, and
   the filters of a list, open on wide screens. A static file, never inline, for the Content
   Security Policy. Without it everything is shown unfolded: it only helps. */
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 40rem)");

  document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }
    function set(expanded) { button.setAttribute("aria-expanded", expanded ? "true" : "false"); }
    set(false);
    button.hidden = false;
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape folds the menu again and gives the focus back to its button.
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !wide.matches && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
  });

  // <details data-open-wide>: open from the start where there is room for it.
  if (wide.matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = true;
    });
  }
})();
