// Runs first thing in <body>: tells GOV.UK Frontend's styles that its script will run here
// (conditional reveals are hidden only then), as the Design System's page template does.
document.body.className += " js-enabled" +
  ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
