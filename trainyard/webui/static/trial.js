// Trial page: status, hparams, restarts, metric charts, checkpoints, logs with follow and search.
"use strict";
(() => {
  const { api, h, num, when, bytes, fill, poll, debounce, stateBadge } = TY;
  const head = document.getElementById("trial-head");
  const id = head.dataset.trialId;
  const metric = head.dataset.metric;
  const field = (x) => document.getElementById(x);
  const MAX_LOG_LINES = 5000;

  function flatten(obj, prefix = "", out = {}) {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) flatten(v, `${prefix}${k}.`, out);
      else out[prefix + k] = v;
    }
    return out;
  }

  function showTrial(t, l) {
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

  // Logs: long-poll `after_id` while "follow" is on; a new search starts over.
  const logs = { after: 0, generation: 0, ended: false };
  function appendLines(lines) {
    const box = field("logs");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
    box.append(...lines.map((l) => h("div", { class: `log ${l.stream}`, "data-id": l.id },
      `[${new Date(l.timestamp * 1000).toLocaleTimeString()}]${l.rank !== null ? ` [rank ${l.rank}]` : ""} ${l.line}`)));
    while (box.childElementCount > MAX_LOG_LINES) box.firstChild.remove();
    if (atBottom && field("log-follow").checked) box.scrollTop = box.scrollHeight;
  }

  async function followLogs() {
    const gen = ++logs.generation;
    logs.after = 0; logs.ended = false;
    field("logs").replaceChildren();
    const search = field("log-search").value;
    while (gen === logs.generation) {
      const wait = field("log-follow").checked && logs.after > 0 ? 20 : 0;
      const q = new URLSearchParams({ after_id: logs.after, limit: 2000, timeout_seconds: wait });
      if (search) q.set("search", search);
      let page;
      try { page = await api(`/trials/${id}/logs?` + q); } catch (err) { await new Promise((r) => setTimeout(r, 3000)); continue; }
      if (gen !== logs.generation) return;
      appendLines(page.lines);
      logs.after = page.next_after_id;
      field("log-status").textContent = page.ended ? "trial ended: all lines shown" : field("log-follow").checked ? "following…" : "paused";
      if (page.ended) return;
      if (!page.lines.length && !field("log-follow").checked) {
        await new Promise((r) => { field("log-follow").addEventListener("change", r, { once: true }); });
      }
    }
  }

  field("log-search").addEventListener("input", debounce(followLogs, 300));
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
  poll(refresh, 3000);
  followLogs();
})();
