// The channel form: show only the fieldset of the chosen kind. Every fieldset stays in the page, so the form
// still works without scripts; the Content-Security-Policy refuses inline scripts, hence this file.
(() => {
  const kind = document.getElementById("id_kind");
  if (!kind) return;
  const show = () => {
    document.querySelectorAll("fieldset[data-kind]").forEach((fieldset) => {
      fieldset.hidden = fieldset.dataset.kind !== kind.value;
    });
  };
  kind.addEventListener("change", show);
  show();
})();
