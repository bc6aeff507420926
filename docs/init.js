// The API reference page: Swagger UI on the Worker's own OpenAPI document
// (GET /openapi.json, same origin). Copied to public/docs/init.js by
// scripts/build-docs.mjs.
/* global SwaggerUIBundle */
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    // The page without Swagger UI's top bar (its standalone preset):
    // one document, no URL box.
    layout: "BaseLayout",
    // Swagger UI would otherwise send the document's URL to
    // validator.swagger.io for its badge: nothing leaves this origin.
    validatorUrl: null,
    deepLinking: true,
    docExpansion: "list",
    filter: true,
    displayRequestDuration: true,
    showExtensions: true,
    // A token given under "Authorize" (X-Auth-Token, the document's apiKey
    // scheme) survives a reload of the page.
    persistAuthorization: true,
    // The 405 stubs (upstream's router answers them with 405) start closed,
    // unless a link points into them.
    onComplete: () => {
      if (!window.location.hash.includes("not-implemented")) {
        window.ui.layoutActions.show(["operations-tag", "not-implemented"], false);
      }
    },
  });
});
