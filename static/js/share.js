// Progressive enhancement of the share section: copy the link, and the phone's share sheet.
// Without JavaScript the link stays selectable and the app links work as plain links.
(function () {
  "use strict";
  var input = document.querySelector("[data-share-url]");
  if (!input) { return; }
  var status = document.querySelector(".share .copied");
  var copy = document.querySelector("[data-copy]");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) { status.textContent = document.documentElement.lang === "fr" ? "Lien copié." : "Link copied."; }
      });
    });
  }
  var native = document.querySelector("[data-native-share]");
  if (native && navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: input.dataset.shareTitle, text: input.dataset.shareText, url: input.value })
        .catch(function () { /* the person closed the sheet */ });
    });
  }
})();
