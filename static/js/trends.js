/*
 * Draws the trend charts from the JSON that sessions/includes/trend_chart.html emits (id "trend-data"):
 * one chart per score (pain, fatigue) on a time axis, every session a point, phases as shaded bands
 * behind the lines, the client's own scores as a separate series, a rolling average and a band of
 * +/- 2 points around the baseline. Without this script the page still works through its data table.
 */
(function () {
  "use strict";

  var PHASE_COLOURS = {
    acute_flare: "rgba(214, 51, 65, 0.18)",
    subacute: "rgba(240, 173, 0, 0.22)",
    remission: "rgba(25, 135, 84, 0.13)",
  };
  // Blue and orange stay distinct for the common colour-vision deficiencies.
  var COLOURS = { before: "#0b5394", after: "#d35400", rolling: "#555555", self: "#6f42c1" };
  var TITLES = { pain: "Pain", fatigue: "Fatigue" };
  var charts = [];
  // Phase names by value, and the words for a session without one (the chart data's "phases", "no_phase").
  var phaseNames = {};
  var noPhase = "";
  var techniqueNames = []; // a session's "techniques" are positions in the data's "technique_names"

  function signed(value) {
    if (value === null || value === undefined) return "–";
    return value > 0 ? "+" + value : String(value);
  }

  function sessionLines(session, measure) {
    var lines = [];
    ["pain", "fatigue"].forEach(function (name) {
      var before = session[name + "_before"];
      var after = session[name + "_after"];
      var text = TITLES[name] + ": " + before + " → " + (after === null ? "not recorded" : after);
      if (after !== null) text += " (" + signed(after - before) + ")";
      if (name === measure) lines.unshift(text);
      else lines.push(text);
    });
    lines.push("Phase: " + (phaseNames[session.phase] || noPhase));
    var techniques = session.techniques.map(function (index) {
      return techniqueNames[index];
    });
    lines.push("Techniques: " + (techniques.length ? techniques.join(", ") : "none recorded"));
    if (!session.signed) lines.push("Draft, not signed yet");
    return lines;
  }

  function datasets(data, measure) {
    var title = TITLES[measure];
    var sessions = data.sessions;
    // Years of weekly sessions: smaller marks so the lines stay readable.
    var dense = sessions.length > 60;
    var list = [
      {
        label: title + " before session",
        data: sessions.map(function (s) {
          return { x: s.x, y: s[measure + "_before"], session: s };
        }),
        borderColor: COLOURS.before,
        backgroundColor: COLOURS.before,
        pointRadius: dense ? 2 : 3.5,
        pointHoverRadius: 6,
        borderWidth: dense ? 1.25 : 1.75,
        order: 2,
      },
      {
        label: title + " after session",
        data: sessions
          .filter(function (s) {
            return s[measure + "_after"] !== null;
          })
          .map(function (s) {
            return { x: s.x, y: s[measure + "_after"], session: s };
          }),
        borderColor: COLOURS.after,
        backgroundColor: COLOURS.after,
        borderDash: [6, 4],
        pointStyle: "triangle",
        pointRadius: dense ? 2.5 : 4,
        pointHoverRadius: 7,
        borderWidth: dense ? 1 : 1.5,
        order: 3,
      },
      {
        label: "Average of last " + data.rolling_window + " sessions (before)",
        data: data.rolling.map(function (p) {
          return { x: p.x, y: p[measure] };
        }),
        borderColor: COLOURS.rolling,
        backgroundColor: COLOURS.rolling,
        borderWidth: 3.5,
        pointRadius: 0,
        pointHoverRadius: 3,
        tension: 0.3,
        order: 1,
      },
    ];
    if (data.self_reports.length) {
      list.push({
        label: "Recorded between sessions",
        data: data.self_reports.map(function (r) {
          return { x: r.x, y: r[measure], report: r };
        }),
        borderColor: COLOURS.self,
        backgroundColor: COLOURS.self,
        showLine: false,
        pointStyle: "rectRot",
        pointRadius: 5,
        pointHoverRadius: 7,
        order: 0,
      });
    }
    return list;
  }

  function annotations(data, measure) {
    var found = {};
    data.bands.forEach(function (band, index) {
      found["phase" + index] = {
        type: "box",
        xMin: band.x0,
        xMax: band.x1,
        backgroundColor: PHASE_COLOURS[band.phase] || "rgba(0, 0, 0, 0.05)",
        borderWidth: 0,
        drawTime: "beforeDatasetsDraw",
      };
    });
    if (data.baseline) {
      var base = data.baseline[measure];
      found.threshold = {
        type: "box",
        yMin: Math.max(0, base - data.threshold),
        yMax: Math.min(10, base + data.threshold),
        backgroundColor: "rgba(60, 60, 60, 0.08)",
        borderColor: "rgba(60, 60, 60, 0.45)",
        borderDash: [4, 4],
        borderWidth: 1,
        drawTime: "beforeDatasetsDraw",
      };
      found.baseline = {
        type: "line",
        yMin: base,
        yMax: base,
        borderColor: "rgba(60, 60, 60, 0.7)",
        borderDash: [2, 3],
        borderWidth: 1.5,
        label: {
          display: true,
          content: "Baseline " + base.toFixed(1) + " ± " + data.threshold,
          position: "start",
          backgroundColor: "rgba(255, 255, 255, 0.85)",
          color: "#333",
          font: { size: 11 },
          padding: 3,
        },
      };
    }
    return found;
  }

  function tooltip(measure) {
    return {
      callbacks: {
        title: function (items) {
          var raw = items[0].raw;
          if (raw.session) return raw.session.when;
          if (raw.report) return raw.report.when;
          return "";
        },
        label: function (item) {
          return item.dataset.label + ": " + Number(item.parsed.y).toFixed(item.raw.session || item.raw.report ? 0 : 1);
        },
        footer: function (items) {
          var raw = items[0].raw;
          if (raw.session) return sessionLines(raw.session, measure);
          if (raw.report) return ["Recorded by the client, not at a session"];
          return [];
        },
      },
    };
  }

  function draw(canvas, data) {
    var measure = canvas.dataset.trendChart;
    var chart = new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets(data, measure) },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: {
            type: "time",
            min: data.range.min,
            max: data.range.max,
            time: { tooltipFormat: "d MMM yyyy", displayFormats: { day: "d MMM", week: "d MMM", month: "MMM yyyy", quarter: "MMM yyyy" } },
            ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12, font: { size: 12 } },
            grid: { color: "rgba(0, 0, 0, 0.06)" },
          },
          y: {
            min: 0,
            max: 10,
            ticks: { stepSize: 1, font: { size: 12 } },
            title: { display: true, text: TITLES[measure] + " (0–10)", font: { size: 13 } },
            grid: { color: "rgba(0, 0, 0, 0.08)" },
          },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: {
              usePointStyle: true,
              boxHeight: 8,
              font: { size: 12 },
              // Keep the legend in reading order; ``order`` only decides what is drawn on top.
              sort: function (a, b) {
                return a.datasetIndex - b.datasetIndex;
              },
            },
          },
          tooltip: tooltip(measure),
          annotation: { annotations: annotations(data, measure) },
        },
      },
    });
    charts.push(chart);
  }

  function setUpPrinting() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      // Print every row, not only what was expanded on screen.
      document.querySelectorAll("details[data-trend-details]:not([open])").forEach(function (details) {
        details.open = true;
        opened.push(details);
      });
      charts.forEach(function (chart) {
        chart.resize(700, 300);
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (details) {
        details.open = false;
      });
      opened = [];
      charts.forEach(function (chart) {
        chart.resize();
      });
    });
    document.querySelectorAll("[data-trend-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        // A page that shows only the last sessions prints from the one with them all (it prints on opening).
        var full = button.getAttribute("data-trend-print-href");
        if (full) window.location.href = full;
        else window.print();
      });
    });
  }

  function setUpRangeControl() {
    // Typing a date means a custom range: choose it so the dates are not silently ignored.
    document.querySelectorAll("[data-trend-custom-date]").forEach(function (input) {
      input.addEventListener("change", function () {
        var custom = input.form && input.form.querySelector("input[name=range][value=custom]");
        if (custom) custom.checked = true;
      });
    });
    // A preset needs no dates: show it at once. Custom waits for the dates and the Show button.
    document.querySelectorAll(".trend-controls input[name=range]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked && radio.value !== "custom") radio.form.submit();
      });
    });
  }

  function init() {
    setUpRangeControl();
    setUpPrinting();
    var source = document.getElementById("trend-data");
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    phaseNames = data.phases || {};
    noPhase = data.no_phase || "";
    techniqueNames = data.technique_names || [];
    document.querySelectorAll("canvas[data-trend-chart]").forEach(function (canvas) {
      draw(canvas, data);
    });
    if (document.querySelector("[data-trend-autoprint]")) window.setTimeout(window.print, 300);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
