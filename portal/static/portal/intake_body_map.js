/* The intake's body-map screens (portal/intake.py): the list of checkboxes is the answer, and works alone;
 * a tap (or Enter, Space) on a region of the map ticks or unticks its checkbox, and the map shows what is ticked. */
(function () {
  "use strict";
  document.querySelectorAll("[data-intake-map]").forEach(function (holder) {
    var name = holder.dataset.intakeMap;
    var form = holder.closest("form");
    var map = holder.querySelector(".body-map");
    if (!form || !map || !window.BodyMap) {
      return;
    }
    function boxes() {
      return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="' + name + '"]'));
    }
    function show() {
      window.BodyMap.setSelected(
        map,
        boxes()
          .filter(function (box) { return box.checked; })
          .map(function (box) { return box.value; })
      );
    }
    map.addEventListener("body-map:pick", function (event) {
      boxes().forEach(function (box) {
        if (box.value === event.detail.region) {
          box.checked = !box.checked;
          box.dispatchEvent(new Event("input", { bubbles: true }));
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
      show();
    });
    form.addEventListener("change", show);
    show();
  });
})();
