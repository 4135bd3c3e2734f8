// Alert routing: choosing a pair shows its routes at once (the <noscript> button does it without scripts).
// An event listener rather than an onchange attribute: the Content-Security-Policy refuses inline handlers.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
