// foodmatch pages: small enhancements only. Every form works without this file.
(function () {
  "use strict";

  // Move focus to the error summary so screen readers announce the problems at once.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    // Links in the summary put focus on the field (and show its label), not just scroll.
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) { return; }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var group = target.closest(".form-group") || target;
      group.scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  // Stop a second press of a button from sending the same form twice.
  document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
    var form = button.form;
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "yes" && event.submitter === button) { event.preventDefault(); }
      if (event.submitter === button) { form.dataset.sent = "yes"; }
    });
  });

  // Radios that reveal more questions: show only the chosen one's (all are shown without
  // this file). Each radio names what it reveals (aria-controls; radios may not carry
  // aria-expanded).
  var revealing = document.querySelectorAll("input[type=radio][data-reveals]");
  function showChosen() {
    revealing.forEach(function (radio) {
      var panel = document.getElementById(radio.dataset.reveals);
      if (!panel) { return; }
      radio.setAttribute("aria-controls", panel.id);
      panel.classList.toggle("radios__conditional--hidden", !radio.checked);
    });
  }
  // Any radio of a group may hide what another reveals, so listen to every radio's change.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=radio]")) { showChosen(); }
  });
  showChosen();

  // A running scenario: check again every few seconds until it has finished.
  if (document.querySelector("[data-refresh-while-running]")) {
    window.setTimeout(function () { window.location.reload(); }, 3000);
  }
})();
