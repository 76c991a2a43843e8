// Brownout embed helper: keeps each embedded Brownout diagram as tall as
// it asks to be.
//
// A page embedded with ?embed=1 posts {type: "brownout-height", height}
// to its parent whenever the height it would like changes (it follows the
// frame's width, as a video's does). Include this script once on the host
// page, after or before the iframes:
//
//   <script src="embed.js" defer></script>
//
// Only iframes whose own page sent the message are resized, and only to a
// plausible height; other messages are ignored.
//
// The build copies this file into the bundle beside index.html (the
// copy-file link in index.html), so a host takes it from there.
(function () {
  "use strict";
  var MIN_HEIGHT = 120;
  var MAX_HEIGHT = 4000;

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "brownout-height") return;
    var height = Number(data.height);
    if (!isFinite(height)) return;
    height = Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, height)));
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = height + "px";
      }
    }
  });
})();
