/* Starts Swagger UI on /api/docs from the JSON configuration in the page (no inline script: CSP). */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var config = JSON.parse(document.getElementById("gm-swagger-config").textContent);
    window.ui = window.SwaggerUIBundle(config);
  });
})();
