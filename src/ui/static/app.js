// msp console: "/" focuses search; forms with data-confirm ask first.
document.addEventListener("keydown", (e) => {
  const s = document.getElementById("search");
  if (e.key === "/" && s && document.activeElement !== s && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
    e.preventDefault();
    s.focus();
  }
});
document.addEventListener("submit", (e) => {
  const msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
