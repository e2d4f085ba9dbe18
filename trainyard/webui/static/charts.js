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

  // A metric's family: its name without a split prefix ("val_loss" and "loss" are one family,
  // "accuracy" another), so each family gets its own y axis and loss never squashes accuracy.
  function family(name) {
    return name.replace(/^(val|valid|validation|train|training|test|eval)[_/.-]/i, "");
  }

  // Exponential moving average (TensorBoard's smoothing): weight 0 leaves the values as they are.
  function smooth(ys, weight) {
    if (!weight) return ys;
    let last = null;
    return ys.map((y) => (typeof y !== "number" ? y : (last = last === null ? y : last * weight + (1 - weight) * y)));
  }

  // Metric curves as stacked subplots, one y axis per family (traces carry `metric`, the bare
  // metric name), with an optional log y scale and smoothing weight.
  async function drawMetrics(id, traces, { log = false, smoothing = 0, xTitle = "steps (batches)" } = {}) {
    const families = [...new Set(traces.map((t) => family(t.metric)))];
    const n = Math.max(1, families.length), gap = n > 1 ? 0.08 : 0;
    // The x axis (shared) sits under the bottom subplot, the last family's.
    const extra = { xaxis: { title: { text: xTitle }, anchor: n > 1 ? `y${n}` : "y" }, uirevision: `reader-${log}`, height: Math.max(380, 220 * n) };
    families.forEach((f, i) => {
      const top = 1 - (i * (1 + gap)) / n, bottom = Math.max(0, 1 - ((i + 1) * (1 + gap)) / n + gap);
      extra[i ? `yaxis${i + 1}` : "yaxis"] = { domain: [bottom, Math.min(1, top)], title: { text: f }, type: log ? "log" : "linear", anchor: "x" };
    });
    const drawn = traces.map(({ metric, ...t }) => {
      const i = families.indexOf(family(metric));
      return { ...t, yaxis: i ? `y${i + 1}` : "y", y: smooth(t.y, smoothing) };
    });
    const el = document.getElementById(id);
    if (el) el.style.height = `${extra.height}px`;
    await draw(id, drawn, extra);
  }

  return { draw, drawMetrics, family, layout, plotly };
})();
