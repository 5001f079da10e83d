// The pop-in page framed by a shop (participant/embed.html). It tells the shop's loader
// (static/js/popin.js) what happens here: "show" (the contest is open), "dismiss" ("not now",
// the close button, Escape, or the contest page opened in a new tab), "entered" (the entry
// form answered "check your inbox"), "hide". The loader remembers them in the shop's own
// storage: a frame of another site may not have any storage at all (third-party blocking).
// All texts are in the page; this script adds none.
(function () {
  "use strict";
  var root = document.querySelector("[data-popin]");
  if (!root || !window.parent || window.parent === window) { return; }
  var hours = parseInt(root.getAttribute("data-delay-hours"), 10) || 24;
  var origins = (root.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  var HIDE_AFTER_ENTRY_MS = 6000;
  var entered = false;

  function post(action) {
    var message = { type: "contest-popin", action: action };
    if (action === "show") {
      message.title = document.title;
      message.delayHours = hours;
    }
    origins.forEach(function (origin) {
      try { window.parent.postMessage(message, origin); } catch (e) { /* not a shop origin */ }
    });
  }
  function dismiss() { post("dismiss"); }
  function checkEntered() {
    // During an htmx swap the old #entry is still there beside the new one.
    if (entered || !root.querySelector("#entry.done")) { return; }
    entered = true;
    post("entered");
    window.setTimeout(function () { post("hide"); }, HIDE_AFTER_ENTRY_MS);
  }

  if (root.getAttribute("data-open") !== "true") {
    post("hide");
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-popin-dismiss], [data-popin-page]"),
    function (control) { control.addEventListener("click", dismiss); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") { dismiss(); }
  });
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== window.parent || origins.indexOf(event.origin) === -1) { return; }
    if (data && data.type === "contest-popin" && data.action === "focus") {
      var heading = document.getElementById("popin-title");
      if (heading) { heading.focus(); }
    }
  });
  document.body.addEventListener("htmx:afterSwap", checkEntered);
  document.body.addEventListener("htmx:afterSettle", checkEntered);
  if (window.MutationObserver) {
    new MutationObserver(checkEntered).observe(root, { childList: true, subtree: true });
  }
  post("show");
})();
