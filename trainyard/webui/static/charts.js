// plotly helpers: plotly.js loaded after the page's first paint, one layout, and a record of
// when each chart was drawn (read by tests/bench).
"use strict";
const Charts = (() => {
  window.__chartsDrawn = window.__chartsDrawn || {};
  window.__chartsCost = window.__chartsCost || {};  // ms each chart's last draw took
  const config = { responsive: true, displaylogo: false };
  let loading = null;

  // plotly.min.js (4.8 MB) is preloaded by the page but only run once the first frame is
  // painted, so parsing it never holds the page's first paint back.
  function plotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise((resolve, reject) => {
        let started = false;
        const go = () => {
          if (started) return;
          started = true;
          const s = document.createElement("script");
          s.src = "/ui/static/plotly.min.js";
          s.onload = () => resolve(window.Plotly);
          s.onerror = () => reject(new Error("plotly.js failed to load"));
          document.head.append(s);
        };
        requestAnimationFrame(() => setTimeout(go, 0));
        setTimeout(go, 200);  // a hidden tab gets no animation frames
      });
    }
    return loading;
  }

  // `uirevision` never changes, so a redraw with new data (Plotly.react on every poll) keeps
  // what the reader did: zoom and pan, hidden legend entries, parallel-coordinate brushes and
  // selections. A chart that must reset its view passes its own `uirevision`.
  function layout(extra = {}) {
    return {
      uirevision: "reader",
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
    const P = await plotly();
    const t0 = performance.now();
    await P.react(el, traces, layout(extra), config);
    window.__chartsCost[id] = performance.now() - t0;
    el.dataset.drawn = String((Number(el.dataset.drawn) || 0) + 1);
    if (!(id in window.__chartsDrawn)) window.__chartsDrawn[id] = performance.now();
  }

  return { draw, layout, plotly };
})();
