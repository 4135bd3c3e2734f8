// Copy buttons of the setup assistant, and the TLS-off warning of the pair form. No framework.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = document.getElementById(button.dataset.target).textContent;
  navigator.clipboard.writeText(text).then(() => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
});

function showTlsWarning() {
  const off = [...document.querySelectorAll("select[name$='tls_mode']")].some((s) => s.value === "off");
  const warning = document.querySelector(".tls-off-warning");
  if (warning) warning.hidden = !off;
}
document.addEventListener("change", (event) => {
  if (event.target.matches("select[name$='tls_mode']")) showTlsWarning();
});
document.addEventListener("DOMContentLoaded", showTlsWarning);
