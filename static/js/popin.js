// The contest pop-in loader, served as /embed/SLUG.js and pasted by a shop as
//   <script src="https://contest.example/embed/SLUG.js" async></script>
// (optionally with data-lang="fr" or "en"). Unless this visitor said "not now" lately or
// entered through the pop-in (both kept in the shop's own localStorage), it adds a hidden
// frame of the contest server's /embed/SLUG page and shows it as a dialog when the frame
// asks. It talks to no one but the contest server, and its texts come from the frame.
(function () {
  "use strict";
  var doc = document;
  var script = doc.currentScript;
  if (!script) {
    var found = doc.querySelectorAll('script[src*="/embed/"]');
    script = found[found.length - 1];
  }
  if (!script || !window.postMessage || !window.addEventListener || !window.URL) { return; }
  var origin, slug, storage;
  try {
    var url = new URL(script.src, doc.baseURI);
    var match = /^\/embed\/([a-z0-9-]+)\.js$/.exec(url.pathname);
    if (!match) { return; }
    origin = url.origin;
    slug = match[1];
    storage = window.localStorage;
  } catch (e) { return; }
  var prefix = "contest-popin:" + slug + ":";
  var marker = "data-contest-popin";

  function read(name) {
    try { return storage.getItem(prefix + name); } catch (e) { return null; }
  }
  function write(name, value) {
    try { storage.setItem(prefix + name, value); return true; } catch (e) { return false; }
  }
  function usable() {
    try { storage.setItem(prefix + "probe", "1"); storage.removeItem(prefix + "probe"); return true; } catch (e) { return false; }
  }
  // Without storage a "not now" could not be remembered: never nag, show nothing.
  if (!usable() || read("entered") || Number(read("dismissed-until")) > Date.now()) { return; }
  if (doc.querySelector("[" + marker + '="' + slug + '"]')) { return; }

  var lang = script.getAttribute("data-lang");
  var overlay = doc.createElement("div");
  var frame = doc.createElement("iframe");
  var delayHours = 24;
  var returnFocus = null;
  var open = false;

  overlay.setAttribute(marker, slug);
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  set(overlay.style, {
    display: "none", position: "fixed", top: "0", right: "0", bottom: "0", left: "0",
    zIndex: "2147483647", alignItems: "center", justifyContent: "center", padding: "1rem",
    boxSizing: "border-box", background: "rgba(17, 24, 39, 0.55)"
  });
  frame.src = origin + "/embed/" + slug + (lang ? "?lang=" + encodeURIComponent(lang) : "");
  frame.setAttribute("sandbox",
    "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
  set(frame.style, {
    display: "block", width: "100%", maxWidth: "28rem", height: "100%", maxHeight: "40rem",
    border: "0", borderRadius: "14px", background: "#fff",
    boxShadow: "0 12px 40px rgba(0, 0, 0, 0.35)"
  });
  overlay.appendChild(frame);

  function set(style, values) {
    for (var name in values) {
      if (Object.prototype.hasOwnProperty.call(values, name)) { style[name] = values[name]; }
    }
  }
  function focusFrame() {
    frame.focus();
    try { frame.contentWindow.postMessage({ type: "contest-popin", action: "focus" }, origin); } catch (e) { /* gone */ }
  }
  function show(data) {
    if (open || !overlay.parentNode) { return; }
    open = true;
    if (typeof data.title === "string" && data.title) {
      overlay.setAttribute("aria-label", data.title);
      frame.setAttribute("title", data.title);
    }
    var hours = Number(data.delayHours);
    if (hours >= 1 && hours <= 8760) { delayHours = hours; }
    returnFocus = doc.activeElement;
    overlay.style.display = "flex";
    focusFrame();
  }
  function hide() {
    open = false;
    window.removeEventListener("message", onMessage);
    doc.removeEventListener("keydown", onKey, true);
    doc.removeEventListener("focusin", onFocus, true);
    if (overlay.parentNode) { overlay.parentNode.removeChild(overlay); }
    if (returnFocus && returnFocus.focus && doc.contains(returnFocus)) { returnFocus.focus(); }
  }
  function dismiss() {
    write("dismissed-until", String(Date.now() + delayHours * 3600 * 1000));
    hide();
  }
  function onMessage(event) {
    var data = event.data;
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    if (!data || data.type !== "contest-popin") { return; }
    if (data.action === "show") { show(data); }
    if (data.action === "dismiss" && open) { dismiss(); }
    if (data.action === "entered") { write("entered", String(Date.now())); }
    if (data.action === "hide") { hide(); }
  }
  function onKey(event) {
    if (open && (event.key === "Escape" || event.key === "Esc")) { dismiss(); }
  }
  function onFocus(event) {
    // Focus that leaves the frame while the dialog is open goes back into it.
    if (open && event.target !== frame) { focusFrame(); }
  }
  overlay.addEventListener("click", function (event) {
    if (open && event.target === overlay) { dismiss(); }
  });

  window.addEventListener("message", onMessage);
  doc.addEventListener("keydown", onKey, true);
  doc.addEventListener("focusin", onFocus, true);
  function insert() { doc.body.appendChild(overlay); }
  if (doc.body) { insert(); } else { doc.addEventListener("DOMContentLoaded", insert); }
})();
