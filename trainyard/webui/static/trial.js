// Trial page: status, hparams, restarts, metric charts, checkpoints; logs are logs.js's.
"use strict";
(() => {
  const { api, h, num, when, bytes, fill, poll, debounce, stateBadge } = TY;
  const head = document.getElementById("trial-head");
  const id = head.dataset.trialId;
  const metric = head.dataset.metric;
  const field = (x) => document.getElementById(x);

  function flatten(obj, prefix = "", out = {}) {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) flatten(v, `${prefix}${k}.`, out);
      else out[prefix + k] = v;
    }
    return out;
  }

  function showTrial(t, l) {
    const ended = TY.TERMINAL.has(t.state);
    field("trial-kill").disabled = ended || t.state.startsWith("STOPPING");
    field("trial-continue").disabled = !ended;
    const badge = field("trial-state");
    badge.textContent = t.state;
    badge.className = `state state-${t.state}`;
    const kv = [
      ["State", t.state],
      ...(l.waiting ? [["Waiting", l.waiting]] : []),
      ...(l.error ? [["Error", h("code", { id: "trial-error" }, l.error)]] : []),
      ["Trained", h("span", { id: "trial-trained" }, TY.trained(l, l.unit))],
      ["Best " + metric, num(t.best_metric)], ["Latest " + metric, num(t.latest_metric)],
      ["Restarts", t.restarts], ["Exit reason", t.exit_reason || "—"],
      ["Started", when(t.started_at)], ["Ended", when(t.ended_at)],
    ];
    field("trial-kv").replaceChildren(...kv.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    fill(field("hparams-table").tBodies[0],
      Object.entries(flatten(t.hparams)).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, num(v)))));
  }

  async function drawMetrics() {
    const [train, val] = await Promise.all([
      api(`/trials/${id}/metrics?group=training&max_points=2000`),
      api(`/trials/${id}/metrics?group=validation&max_points=2000`),
    ]);
    const traces = [];
    for (const [group, res] of [["training", train], ["validation", val]]) {
      const names = new Set();
      for (const p of res.points) for (const k of Object.keys(p.metrics)) names.add(k);
      for (const name of [...names].sort()) {
        const pts = res.points.filter((p) => typeof p.metrics[name] === "number");
        if (pts.length) traces.push({ type: "scatter", mode: pts.length > 1 ? "lines" : "markers",
          name: `${group}/${name}`, metric: name, x: pts.map((p) => p.steps), y: pts.map((p) => p.metrics[name]),
          line: { dash: group === "validation" ? "dot" : "solid" } });
      }
    }
    const pick = field("metric-pick");
    const known = [...pick.options].map((o) => o.value);
    for (const t of traces) if (!known.includes(t.name)) pick.append(h("option", { value: t.name, selected: true }, t.name));
    const chosen = new Set([...pick.selectedOptions].map((o) => o.value));
    await Charts.drawMetrics("trial-metrics", traces.filter((t) => chosen.has(t.name)),
      { log: field("metrics-log").checked, smoothing: Number(field("metrics-smooth").value) });
  }

  async function loadCheckpoints() {
    const page = await api(`/trials/${id}/checkpoints?sort=-steps&limit=100`);
    fill(field("checkpoints-table").tBodies[0], page.items.map((c) => h("tr", { "data-uuid": c.uuid },
      h("td", { class: "mono" }, c.uuid.slice(0, 8)), h("td", {}, c.steps), h("td", {}, c.state),
      h("td", {}, bytes(c.size_bytes)), h("td", {}, num(c.metrics[metric])), h("td", {}, when(c.created_at)),
      h("td", {}, c.state === "ACTIVE" ? h("a", { href: `/api/v1/checkpoints/${c.uuid}/download`, download: `${c.uuid}.tar.gz` }, "download") : ""))));
    field("checkpoints-empty").hidden = page.total > 0;
  }

  async function loadEvents() {
    const events = await api(`/webui/trials/${id}/history`);
    fill(field("events-table").tBodies[0], events.map((e) => h("tr", {},
      h("td", {}, when(e.time)), h("td", {}, e.kind), h("td", {}, e.exit_code ?? "—"), h("td", {}, e.reason || "—"))));
  }

  field("metric-pick").addEventListener("change", drawMetrics);
  field("metrics-log").addEventListener("change", drawMetrics);
  field("metrics-smooth").addEventListener("input", debounce(drawMetrics, 150));

  async function refresh() {
    let t, l;
    try {
      [t, l] = await Promise.all([api(`/trials/${id}`), api(`/webui/trials/${id}/live`)]);
    } catch (err) {
      TY.banner(err.message);
      return true;
    }
    showTrial(t, l);
    await Promise.all([drawMetrics(), loadCheckpoints(), loadEvents()]);
    return !TY.TERMINAL.has(t.state);
  }
  // Kill and continue, with confirmation; the API's refusal is shown as it is.
  field("trial-kill").addEventListener("click", async () => {
    if (!confirm(`Kill trial ${id}? It stops at once; the searcher sees it as canceled.`)) return;
    field("trial-action-error").textContent = "";
    try { showTrial(await api(`/trials/${id}/kill`, { method: "POST" }), await api(`/webui/trials/${id}/live`)); }
    catch (err) { field("trial-action-error").textContent = err.message; }
  });
  field("trial-continue").addEventListener("click", async () => {
    const length = Number(field("continue-length").value) || null;
    if (!confirm(`Continue trial ${id} from its latest checkpoint${length ? ` to length ${length}` : ""} in a new experiment?`)) return;
    field("trial-action-error").textContent = "";
    try {
      const r = await api(`/trials/${id}/continue`, { method: "POST", json: { max_length: length } });
      field("trial-action-result").replaceChildren("Continued as ",
        h("a", { href: `/ui/trials/${r.trial_id}` }, `trial ${r.trial_id}`), " of ",
        h("a", { href: `/ui/experiments/${r.experiment_id}` }, `experiment ${r.experiment_id}`), ".");
    } catch (err) { field("trial-action-error").textContent = err.message; }
  });
  poll(refresh, 3000);
  LogViewer.start(id);
})();
