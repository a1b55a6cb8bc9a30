// foodmatch pages: GOV.UK Frontend's components, and small enhancements of the service's
// own. Every form works without this file.
import {
  createAll,
  ErrorSummary,
  NotificationBanner,
  ServiceNavigation,
  SkipLink,
} from "./govuk/govuk-frontend.min.js";

// GOV.UK Frontend's scripts for the components these pages use. Its Radios script is left
// out: it marks each radio that reveals more questions with aria-expanded, an attribute a
// radio may not carry (axe-core: aria-allowed-attr, critical), so the reveal is done below.
[ErrorSummary, NotificationBanner, ServiceNavigation, SkipLink].forEach(function (component) {
  createAll(component);
});

// Radios that reveal more questions: show only the chosen one's (all are shown without this
// file). Each radio names what it reveals (data-aria-controls, as GOV.UK Frontend marks it).
var revealing = document.querySelectorAll("input[type=radio][data-aria-controls]");
function showChosen() {
  revealing.forEach(function (radio) {
    var panel = document.getElementById(radio.dataset.ariaControls);
    if (!panel) { return; }
    radio.setAttribute("aria-controls", panel.id);
    panel.classList.toggle("govuk-radios__conditional--hidden", !radio.checked);
  });
}
// Any radio of a group may hide what another reveals, so listen to every radio's change.
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("input[type=radio]")) { showChosen(); }
});
showChosen();

// Stop a second press of a button from sending the same form twice (GOV.UK Frontend's own
// guard lasts one second; a slow matching run takes longer).
document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
  var form = button.form;
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent === "yes" && event.submitter === button) { event.preventDefault(); }
    if (event.submitter === button) { form.dataset.sent = "yes"; }
  });
});

// A running scenario: check again every few seconds until it has finished.
if (document.querySelector("[data-refresh-while-running]")) {
  window.setTimeout(function () { window.location.reload(); }, 3000);
}
