// The console's only script: copy buttons. Served from 'self' under a CSP
// that allows no inline script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      if (el && navigator.clipboard) {
        navigator.clipboard.writeText(el.textContent).then(function () { b.textContent = "Copied"; });
      }
    });
  });
});
