/* Print buttons ([data-print]): hidden in the page, shown here, since only this script makes
   them work (no inline handler: the Content-Security-Policy allows none). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
