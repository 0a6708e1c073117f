/* Interactive body maps ({% body_map interactive=True %}).
 *
 * A click, Enter or Space on a region fires a bubbling "body-map:pick" event on the map with
 * detail {region, label}. This script keeps no selection of its own: the page that owns the map
 * (for example the session form) decides what a pick means and calls BodyMap.setSelected. */
(function () {
  "use strict";
  if (window.BodyMap) {
    return;
  }

  function regionOf(target) {
    return target instanceof Element ? target.closest(".body-map__region[data-region]") : null;
  }

  function pick(shape) {
    var map = shape.closest(".body-map");
    var title = shape.querySelector("title");
    map.dispatchEvent(
      new CustomEvent("body-map:pick", {
        bubbles: true,
        detail: { region: shape.dataset.region, label: title ? title.textContent : shape.dataset.region },
      })
    );
  }

  document.addEventListener("click", function (event) {
    var shape = regionOf(event.target);
    if (shape && shape.closest(".body-map--interactive")) {
      pick(shape);
    }
  });

  document.addEventListener("keydown", function (event) {
    var shape = regionOf(event.target);
    if (shape && shape.closest(".body-map--interactive") && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      pick(shape);
    }
  });

  window.BodyMap = {
    /* Mark exactly these region codes as chosen; both views of a region change together. */
    setSelected: function (map, codes) {
      var chosen = new Set(codes);
      map.querySelectorAll(".body-map__region[data-region]").forEach(function (shape) {
        var on = chosen.has(shape.dataset.region);
        shape.classList.toggle("is-selected", on);
        if (shape.hasAttribute("aria-pressed")) {
          shape.setAttribute("aria-pressed", on ? "true" : "false");
        }
      });
    },
  };
})();
