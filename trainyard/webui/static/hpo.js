// HPO visualisations: learning curves, importance, heat map, parallel coordinates, scatters.
"use strict";
(() => {
  const { api, h, poll } = TY;
  const head = document.getElementById("exp-head");
  const id = head.dataset.experimentId;
  const metric = head.dataset.metric;
  const unit = head.dataset.unit || "batches";
  const field = (x) => document.getElementById(x);
  let data = null;

  // All trials' curves, downsampled by the server and packed as one scattergl trace per rung
  // reached (or state), trials separated by nulls: a few traces however many trials there are.
  async function drawCurves() {
    const res = await api(`/webui/experiments/${id}/curves`);
    const traces = res.traces.map((t) => ({
      type: "scattergl", mode: "lines+markers", name: t.name, x: t.x, y: t.y, customdata: t.trial_ids,
      line: { width: 1 }, marker: { size: 3 }, opacity: res.trials > 300 ? 0.5 : 0.9, connectgaps: false,
      hovertemplate: `trial %{customdata}<br>length %{x}<br>${metric} %{y}<extra>%{fullData.name}</extra>`,
    }));
    const el = field("learning-curves");
    el.dataset.trials = String(res.trials);
    el.dataset.points = String(res.points);
    await Charts.draw("learning-curves", traces, {
      showlegend: true,
      xaxis: { title: { text: "steps (batches reported)" } }, yaxis: { title: { text: metric } },
    });
    linkTrials("learning-curves");
  }

  // Scored trials as the server sent them: all, or past 2,000 the best 1,000 and a random 1,000
  // (the note says so), so parallel coordinates, scatters and the heat map stay quick.
  // With "show the best N", only those (the best first by the searcher's direction).
  function scored() {
    const n = Number(field("top-n").value);
    if (!(n >= 1) || n >= data.trials.length) return data.trials;
    return bestLast(data.trials).slice(-n).sort((a, b) => a.id - b.id);
  }

  // Clicking a point (or a curve's point) of a chart whose customdata holds trial ids opens
  // that trial; wired once per chart element.
  function linkTrials(chartId) {
    const el = field(chartId);
    if (!el || el.dataset.linked || !el.on) return;
    el.dataset.linked = "1";
    el.on("plotly_click", (ev) => {
      const tid = ev.points && ev.points[0] && ev.points[0].customdata;
      if (tid) location.href = `/ui/trials/${tid}`;
    });
  }

  // Empirical distribution: the share of trials whose metric is at least as good as x.
  async function drawEdf() {
    const ys = data.trials.map((t) => t.metric).sort((a, b) => (data.smaller_is_better ? a - b : b - a));
    await Charts.draw("edf", [{ type: "scatter", mode: "lines", line: { shape: "hv" }, name: metric,
      x: ys, y: ys.map((_, i) => (i + 1) / ys.length) }],
    { xaxis: { title: { text: metric } }, yaxis: { title: { text: "share of trials" }, range: [0, 1.02] } });
  }

  // Each trial's run from start to end (now, while it runs), one line per trial on its id,
  // one trace per state, so a 2,000-trial search is a handful of WebGL traces.
  async function drawTimeline() {
    const groups = new Map();
    const now = Date.now() / 1000;
    for (const t of data.trials) {
      if (!t.started_at) continue;
      const g = groups.get(t.state) || { x: [], y: [], customdata: [] };
      g.x.push(new Date(t.started_at * 1000), new Date((t.ended_at || now) * 1000), null);
      g.y.push(t.id, t.id, null);
      g.customdata.push(t.id, t.id, null);
      groups.set(t.state, g);
    }
    await Charts.draw("timeline", [...groups].map(([state, g]) => ({ type: "scattergl", mode: "lines",
      name: state.toLowerCase(), line: { width: 3 }, ...g, hovertemplate: "trial %{y}<extra>%{fullData.name}</extra>" })),
    { xaxis: { type: "date", title: { text: "time" } }, yaxis: { title: { text: "trial id" } }, showlegend: true });
    linkTrials("timeline");
  }

  async function drawHistory() {
    const trials = data.trials;  // every drawn trial, in the order they were created
    let best = null;
    const better = (a, b) => (data.smaller_is_better ? a < b : a > b);
    const running = trials.map((t) => (best = best === null || better(t.metric, best) ? t.metric : best));
    await Charts.draw("history", [
      { type: "scattergl", mode: "markers", name: metric, x: trials.map((t) => t.id), y: trials.map((t) => t.metric),
        customdata: trials.map((t) => t.id), marker: { size: 5, opacity: 0.6 }, hovertemplate: `trial %{x}<br>${metric} %{y}<extra></extra>` },
      { type: "scatter", mode: "lines", name: "best so far", x: trials.map((t) => t.id), y: running, line: { shape: "hv", width: 2 } },
    ], { xaxis: { title: { text: "trial id" } }, yaxis: { title: { text: metric } }, showlegend: true });
    linkTrials("history");
  }

  function axisValues(hp, trials) {
    return trials.map((t) => hp.kind === "numeric" ? t.hp[hp.name] : String(t.hp[hp.name]));
  }

  async function drawImportance() {
    const scores = await api(`/webui/experiments/${id}/importance`);
    const entries = Object.entries(scores).sort((a, b) => a[1] - b[1]);
    if (!entries.length) {
      field("importance").replaceChildren(h("p", { class: "hint" }, "Needs at least 5 trials with a metric and a hyperparameter that varies."));
      return;
    }
    await Charts.draw("importance", [{
      type: "bar", orientation: "h", x: entries.map((e) => e[1]), y: entries.map((e) => e[0]),
    }], { margin: { l: 120, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "importance" }, range: [0, 1] } });
  }

  async function drawParcoords() {
    const trials = scored();
    const dims = data.hparams.map((hp) => {
      if (hp.log) {
        const vals = trials.map((t) => Math.log10(t.hp[hp.name]));
        const lo = Math.floor(Math.min(...vals)), hi = Math.ceil(Math.max(...vals));
        const ticks = [...Array(hi - lo + 1).keys()].map((i) => lo + i);
        return { label: `${hp.name} (log)`, values: vals, tickvals: ticks, ticktext: ticks.map((e) => `1e${e}`) };
      }
      if (hp.kind === "numeric") return { label: hp.name, values: trials.map((t) => t.hp[hp.name]) };
      const codes = hp.values;
      return { label: hp.name, values: trials.map((t) => codes.indexOf(String(t.hp[hp.name]))),
        tickvals: codes.map((_, i) => i), ticktext: codes };
    });
    const ys = trials.map((t) => t.metric);
    dims.push({ label: metric, values: ys });
    await Charts.draw("parcoords", [{
      type: "parcoords", dimensions: dims, customdata: trials.map((t) => t.id),
      line: { color: ys, colorscale: "Viridis", reversescale: data.smaller_is_better, showscale: true },
    }], { margin: { l: 60, r: 60, t: 40, b: 20 } });
    const el = field("parcoords");
    if (!el.dataset.linked && el.on) {  // brushing here dims the other trials in the scatters
      el.dataset.linked = "1";
      el.on("plotly_restyle", () => { brushed = brushedIds(); drawWhenNear(field("scatters"), drawScatters); });
    }
    brushed = brushedIds();
  }

  // Trials inside every brushed range of the parallel coordinates (null: nothing brushed).
  let brushed = null;
  function brushedIds() {
    const el = field("parcoords");
    const trace = el.data && el.data[0];
    if (!trace) return null;
    const ranges = trace.dimensions.map((d) => d.constraintrange).map((c) => (!c || !c.length ? null : Array.isArray(c[0]) ? c : [c]));
    if (ranges.every((r) => r === null)) return null;
    const inside = (v, rs) => rs.some(([lo, hi]) => v >= lo && v <= hi);
    return new Set(trace.customdata.filter((_, k) => trace.dimensions.every((d, j) => ranges[j] === null || inside(d.values[k], ranges[j]))));
  }

  // Worst first, so the best trials are drawn last: on top of the crowd, never hidden by it.
  function bestLast(trials) {
    const sign = data.smaller_is_better ? -1 : 1;
    return [...trials].sort((a, b) => sign * (a.metric - b.metric) || a.id - b.id);
  }

  async function drawScatters() {
    const trials = bestLast(scored());
    const grid = field("scatters");
    if (grid.children.length !== data.hparams.length) {
      grid.replaceChildren(...data.hparams.map((hp, i) => h("div", { class: "chart small", id: `scatter-${i}`, "data-hparam": hp.name })));
    }
    const log = (hp) => hp.log;
    await Promise.all(data.hparams.map((hp, i) => Charts.draw(`scatter-${i}`, [{
      type: "scatter", mode: "markers",  // SVG: at most 2,000 points, cheaper than a WebGL context each
      x: axisValues(hp, trials), y: trials.map((t) => t.metric), text: trials.map((t) => `trial ${t.id}`),
      customdata: trials.map((t) => t.id),
      // Colour is the length trained (ASHA's rung): dark for the longest, never near-white.
      marker: { size: 7, color: trials.map((t) => t.trained_length), colorscale: "Viridis", reversescale: true,
        opacity: brushed ? trials.map((t) => (brushed.has(t.id) ? 1 : 0.12)) : 1,
        showscale: true, line: { width: 0.5, color: "rgba(0,0,0,0.45)" },
        colorbar: { title: { text: `trained (${unit})`, side: "right" }, thickness: 10 } },
    }], { xaxis: { title: { text: hp.name }, type: log(hp) ? "log" : undefined }, yaxis: { title: { text: metric } } })));
    data.hparams.forEach((_, i) => linkTrials(`scatter-${i}`));
  }

  function bins(hp, trials) {
    if (hp.kind !== "numeric") {
      return { labels: hp.values, index: (t) => hp.values.indexOf(String(t.hp[hp.name])) };
    }
    const vals = trials.map((t) => t.hp[hp.name]);
    const distinct = [...new Set(vals)].sort((a, b) => a - b);
    if (distinct.length <= 10) return { labels: distinct.map((v) => TY.num(v, 3)), index: (t) => distinct.indexOf(t.hp[hp.name]) };
    const useLog = hp.log && distinct[0] > 0;
    const f = useLog ? Math.log10 : (v) => v;
    const lo = f(distinct[0]), hi = f(distinct[distinct.length - 1]), n = 10;
    const edge = (i) => (useLog ? 10 ** (lo + (i * (hi - lo)) / n) : lo + (i * (hi - lo)) / n);
    const labels = [...Array(n).keys()].map((i) => TY.num(Number(Number(edge(i + 0.5)).toPrecision(3)), 3));
    return { labels, index: (t) => Math.min(n - 1, Math.floor(((f(t.hp[hp.name]) - lo) / (hi - lo || 1)) * n)) };
  }

  async function drawHeatmap() {
    const hx = data.hparams.find((p) => p.name === field("heat-x").value);
    const hy = data.hparams.find((p) => p.name === field("heat-y").value);
    const hint = (text) => {
      const el = field("heatmap");
      if (window.Plotly) window.Plotly.purge(el);
      el.replaceChildren(h("p", { class: "hint", id: "heatmap-hint" }, text));
    };
    if (!hx || !hy || data.hparams.length < 2) { hint("Needs two hyperparameters that vary."); return; }
    if (hx === hy) { hint("Pick two different hyperparameters."); return; }
    field("heatmap-hint")?.remove();
    const trials = scored();
    const bx = bins(hx, trials), by = bins(hy, trials);
    const sum = by.labels.map(() => bx.labels.map(() => 0));
    const cnt = by.labels.map(() => bx.labels.map(() => 0));
    for (const t of trials) {
      const i = by.index(t), j = bx.index(t);
      if (i >= 0 && j >= 0) { sum[i][j] += t.metric; cnt[i][j] += 1; }
    }
    const z = sum.map((r, i) => r.map((s, j) => (cnt[i][j] ? s / cnt[i][j] : null)));
    await Charts.draw("heatmap", [{
      // A contour interpolates between the cells (gaps joined), like optuna-dashboard's.
      type: field("heat-contour").checked ? "contour" : "heatmap", connectgaps: field("heat-contour").checked,
      x: bx.labels, y: by.labels, z, colorscale: "Viridis", reversescale: data.smaller_is_better,
      colorbar: { title: { text: metric } }, hoverongaps: false,
    }], { xaxis: { title: { text: hx.name }, type: "category", automargin: true }, yaxis: { title: { text: hy.name }, type: "category", automargin: true }, margin: { l: 60, r: 20, t: 10, b: 50 } });
  }

  function fillSelects() {
    const names = data.hparams.map((p) => p.name);
    for (const [sel, pick] of [["heat-x", 0], ["heat-y", 1]]) {
      const el = field(sel);
      if (el.options.length === names.length) continue;
      el.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
      if (names[pick]) el.value = names[pick];
      el.onchange = drawHeatmap;
    }
  }

  async function drawTrialCharts(curvesDrawn) {
    data = await api(`/webui/experiments/${id}/hpo`);
    const any = data.trials.length > 0;
    field("hpo-empty").hidden = any;
    field("hpo-sampled").textContent = data.note ? `Charts below: ${data.note}.` : "";
    if (!any) return;
    fillSelects();
    await Promise.all([drawHeatmap(), drawHistory(), drawEdf()]);
    drawWhenNear(field("timeline"), drawTimeline);
    await curvesDrawn.catch(() => null);  // one page of JavaScript: the top chart goes first
    drawWhenNear(field("scatters"), drawScatters);
    drawWhenNear(field("parcoords"), drawParcoords);
  }

  // The scatters and parallel coordinates sit below the first screen and cost seconds to draw
  // on a 10,000-trial search without a GPU, so they are drawn (with the latest data) once the
  // reader scrolls near them, never holding the charts above back.
  function near(el) {
    return new Promise((resolve) => {
      if (!("IntersectionObserver" in window)) { resolve(); return; }
      const seen = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); resolve(); }
      }, { rootMargin: "200px" });
      seen.observe(el);
    });
  }
  const lazy = new Map();
  function drawWhenNear(el, draw) {
    let slot = lazy.get(el.id);
    if (!slot) lazy.set(el.id, (slot = { near: near(el), queued: false }));
    if (slot.queued) return;
    slot.queued = true;
    slot.near.then(() => { slot.queued = false; return draw(); }).catch(() => null);
  }

  // Every chart's data is its own request, drawn as soon as it arrives: the importance fit
  // never holds the curves back; parallel coordinates, the slowest to draw, wait for the curves.
  async function refresh() {
    const experiment = api(`/experiments/${id}`);
    const curves = drawCurves();
    const drawn = await Promise.allSettled([curves, drawImportance(), drawTrialCharts(curves)]);
    const state = (await experiment).state;
    field("exp-state").textContent = state;
    const failed = drawn.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    return !TY.TERMINAL.has(state);
  }

  // The brushed ranges of the parallel coordinates as hyperparameter ranges (log axes back
  // from exponents, categories from their codes), sent to the server to narrow the config;
  // the overview's fork editor opens with the result to preview and create.
  function brushedRanges() {
    const el = field("parcoords");
    const dims = el.data && el.data[0] ? el.data[0].dimensions : [];
    const ranges = {};
    data.hparams.forEach((hp, i) => {
      const c = dims[i] && dims[i].constraintrange;
      if (!c || !c.length) return;
      const flat = Array.isArray(c[0]) ? c.flat() : c;
      const lo = Math.min(...flat), hi = Math.max(...flat);
      if (hp.kind === "categorical") ranges[hp.name] = hp.values.filter((_, k) => k >= lo && k <= hi);
      else ranges[hp.name] = hp.log ? [10 ** lo, 10 ** hi] : [lo, hi];
    });
    return ranges;
  }
  field("heat-contour").addEventListener("change", () => data && drawHeatmap());
  field("top-n").addEventListener("input", TY.debounce(() => {
    if (!data) return;
    drawHeatmap();
    drawWhenNear(field("scatters"), drawScatters);
    drawWhenNear(field("parcoords"), drawParcoords);
  }, 300));

  field("subspace-fork").addEventListener("click", async () => {
    field("subspace-error").textContent = "";
    const ranges = data ? brushedRanges() : {};
    if (!Object.keys(ranges).length) { field("subspace-error").textContent = "Brush a range on a hyperparameter's axis first."; return; }
    try {
      const r = await api(`/webui/experiments/${id}/subspace`, { method: "POST", json: { ranges } });
      sessionStorage.setItem(`trainyard.fork.${id}`, r.config);
      location.href = `/ui/experiments/${id}?fork=1`;
    } catch (err) { field("subspace-error").textContent = err.message; }
  });

  poll(refresh, 6000);
})();
