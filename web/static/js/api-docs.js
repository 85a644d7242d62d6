// Starts Swagger UI from vendored files; the spec URL comes from the page (no inline script).
window.addEventListener("load", () => {
  const el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.specUrl, dom_id: "#swagger-ui" });
});
