/* The session form: add technique rows, and pick a row's body region on the body map.
 *
 * Without JavaScript the form offers a few blank rows and a region list per row; this only adds comfort. */
(function () {
  "use strict";

  var form = document.getElementById("session-form");
  if (!form) {
    return;
  }
  var rows = document.getElementById("technique-rows");
  var template = document.getElementById("technique-row-template");
  var addButton = form.querySelector("[data-add-row]");
  var prefix = rows ? rows.dataset.prefix : "uses";
  var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
  var focusedRow = null;

  function rowList() {
    return Array.prototype.slice.call(rows.querySelectorAll("[data-technique-row]"));
  }

  function addRow() {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    setFocusedRow(row);
    var first = row.querySelector("select");
    if (first) {
      first.focus();
    }
  }

  function setFocusedRow(row) {
    rowList().forEach(function (each) {
      each.classList.toggle("is-focused", each === row);
    });
    focusedRow = row;
    syncBodyMap();
  }

  function regionSelect(row) {
    return row ? row.querySelector('select[name$="-body_region"]') : null;
  }

  /* The row a body-map pick fills: the focused one, else the first row without a region. */
  function targetRow() {
    if (focusedRow && rows.contains(focusedRow)) {
      return focusedRow;
    }
    var empty = rowList().filter(function (row) {
      var select = regionSelect(row);
      return select && !select.value;
    });
    return empty[0] || null;
  }

  function syncBodyMap() {
    var map = document.querySelector("[data-session-body-map] .body-map");
    if (!map || !window.BodyMap) {
      return;
    }
    var select = regionSelect(targetRow());
    window.BodyMap.setSelected(map, select && select.value ? [select.value] : []);
  }

  if (addButton && template && total) {
    addButton.hidden = false;
    addButton.addEventListener("click", addRow);
  }

  if (rows) {
    rows.addEventListener("focusin", function (event) {
      var row = event.target.closest("[data-technique-row]");
      if (row && row !== focusedRow) {
        setFocusedRow(row);
      }
    });
    rows.addEventListener("change", function (event) {
      if (event.target.matches('select[name$="-body_region"]')) {
        syncBodyMap();
      }
    });
  }

  document.addEventListener("body-map:pick", function (event) {
    var row = targetRow();
    if (!row) {
      addRow();
      row = focusedRow;
    }
    var select = regionSelect(row);
    if (!select) {
      return;
    }
    select.value = event.detail.region;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    setFocusedRow(row);
    var status = document.getElementById("body-map-status");
    if (status) {
      status.textContent = event.detail.label + " chosen for technique " + (rowList().indexOf(row) + 1) + ".";
    }
  });
})();
