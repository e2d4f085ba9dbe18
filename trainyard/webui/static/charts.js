// plotly helpers: one layout, and a record of when each chart was drawn (read by tests/bench).
"use strict";
const Charts = (() => {
  window.__chartsDrawn = window.__chartsDrawn || {};
  const config = { responsive: true, displaylogo: false };

  function layout(extra = {}) {
    return {
      margin: { l: 60, r: 20, t: 10, b: 45 },
      font: { family: "system-ui, sans-serif", size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#fff",
      legend: { orientation: "h", y: -0.2 },
      ...extra,
    };
  }

  async function draw(id, traces, extra = {}) {
    const el = document.getElementById(id);
    if (!el) return;
    await Plotly.react(el, traces, layout(extra), config);
    el.dataset.drawn = String((Number(el.dataset.drawn) || 0) + 1);
    if (!(id in window.__chartsDrawn)) window.__chartsDrawn[id] = performance.now();
  }

  return { draw, layout };
})();
