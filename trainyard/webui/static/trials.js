// Trials table: best and latest searcher metric, every hparam and metric a column (any of them
// hidden by the column picker), multi-condition filter, sort/filter/page kept in the URL, CSV
// export of the filtered view, select to compare.
"use strict";
(() => {
  const { api, h, num, fill, pager, poll, debounce, stateBadge } = TY;
  const head = document.getElementById("exp-head");
  const id = head.dataset.experimentId;
  const metric = head.dataset.metric;
  const unit = head.dataset.unit || "batches";
  const table = document.getElementById("trials-table");
  const field = (x) => document.getElementById(x);
  const url = new URLSearchParams(location.search);
  const view = { sort: url.get("sort") || "id", offset: Number(url.get("offset")) || 0, limit: 50 };
  field("f-where").value = url.get("where") || "";
  field("f-state").value = url.get("state") || "";
  const hiddenKey = `trainyard.trials.${id}.hidden`;
  const hidden = new Set(JSON.parse(localStorage.getItem(hiddenKey) || "[]"));
  const selected = new Set();
  let live = new Map();  // trial id → live entry (trials that have not ended)

  function columns(page) {
    return [
      ["id", "ID", (r) => h("a", { href: `/ui/trials/${r.id}` }, r.id)],
      ["state", "State", (r) => {
        const l = live.get(r.id);
        return l && l.waiting ? h("span", {}, stateBadge(l.state), h("span", { class: "why" }, l.waiting)) : stateBadge(r.state);
      }],
      ["trained_length", `Trained (${unit})`, (r) => TY.trained(live.get(r.id) || { trained: r.trained_length, target: r.target_length }, "")],
      ["restarts", "Restarts", (r) => r.restarts],
      ["best_metric", `${metric} (best)`, (r) => num(r.best_metric)],
      ["searcher_metric", `${metric} (latest)`, (r) => num(r.searcher_metric)],
      ...page.hparams.map((n) => [`hp.${n}`, n, (r) => num(r.hp[n])]),
      // The searcher metric has its best and latest columns above.
      ...page.metrics.filter((n) => n !== metric).map((n) => [`m.${n}`, `${n} (latest)`, (r) => num(r.m[n])]),
    ];
  }

  function header(cols) {
    const ths = cols.map(([key, label]) => {
      const cls = ["sortable", view.sort === key ? "asc" : view.sort === "-" + key ? "desc" : "",
        key.startsWith("hp.") ? "hp" : key.startsWith("m.") ? "metric" : ""].join(" ");
      return h("th", { class: cls, "data-col": key, title: `filter and sort name: ${key}`, onclick: () => {
        view.sort = view.sort === key ? "-" + key : key; view.offset = 0; load();
      } }, label);
    });
    table.tHead.replaceChildren(h("tr", {}, h("th", {}, ""), ...ths));
  }

  function picker(cols) {
    const box = field("column-picker");
    if (box.dataset.cols === cols.map((c) => c[0]).join()) return;
    box.dataset.cols = cols.map((c) => c[0]).join();
    box.replaceChildren(...cols.filter(([key]) => key !== "id").map(([key, label]) => h("label", {},
      h("input", { type: "checkbox", "data-col": key, checked: !hidden.has(key), onchange: (ev) => {
        if (ev.target.checked) hidden.delete(key); else hidden.add(key);
        localStorage.setItem(hiddenKey, JSON.stringify([...hidden]));
        load();
      } }), ` ${label}`)));
  }

  function row(r, cols) {
    const box = h("input", { type: "checkbox", "data-trial": r.id, checked: selected.has(r.id), onchange: (ev) => {
      if (ev.target.checked) selected.add(r.id); else selected.delete(r.id);
      field("compare-selected").disabled = selected.size < 1;
      field("continue-selected").disabled = selected.size < 1;
    } });
    return h("tr", { "data-id": r.id }, h("td", {}, box), ...cols.map(([, , cell]) => h("td", {}, cell(r))));
  }

  function query() {
    const q = new URLSearchParams({ sort: view.sort });
    if (field("f-state").value) q.set("state", field("f-state").value);
    if (field("f-where").value.trim()) q.set("where", field("f-where").value.trim());
    return q;
  }

  async function load() {
    const q = query();
    const shown = new URLSearchParams(q);
    if (view.offset) shown.set("offset", view.offset);
    history.replaceState(null, "", `${location.pathname}?${shown}`);
    field("export-csv").href = `/api/v1/webui/experiments/${id}/trial_table.csv?${q}`;
    q.set("limit", view.limit); q.set("offset", view.offset);
    let page;
    try {
      page = await api(`/webui/experiments/${id}/trial_table?` + q);
      field("table-error").textContent = "";
    } catch (err) {
      field("table-error").textContent = err.message;
      table.dataset.failed = String((Number(table.dataset.failed) || 0) + 1);
      return;
    }
    const all = columns(page);
    picker(all);
    const cols = all.filter(([key]) => !hidden.has(key));
    header(cols);
    fill(table.tBodies[0], page.items.map((r) => row(r, cols)));
    field("trials-empty").hidden = page.total > 0;
    pager(field("trials-pager"), page, (o) => { view.offset = o; load(); });
    table.dataset.loaded = String((Number(table.dataset.loaded) || 0) + 1);
    if (!window.__tableDrawn) window.__tableDrawn = performance.now();
    table.dataset.total = String(page.total);
  }

  field("compare-selected").addEventListener("click", () => {
    location.href = "/ui/compare?trials=" + [...selected].join(",");
  });
  // Continue the selected trials (e.g. the top N after sorting by best) from their latest
  // checkpoints: one confirmation, then each in turn; each refusal listed with its trial.
  field("continue-selected").addEventListener("click", async () => {
    const ids = [...selected].sort((a, b) => a - b);
    if (!confirm(`Continue ${ids.length} trial${ids.length === 1 ? "" : "s"} (${ids.join(", ")}) from their latest checkpoints?`)) return;
    const done = [], errors = [];
    for (const tid of ids) {
      try {
        const r = await api(`/trials/${tid}/continue`, { method: "POST", json: {} });
        done.push(h("span", {}, `trial ${tid} → `, h("a", { href: `/ui/trials/${r.trial_id}` }, `trial ${r.trial_id}`), " "));
      } catch (err) { errors.push(h("li", {}, `trial ${tid}: ${err.message}`)); }
    }
    field("continue-result").replaceChildren(...(done.length ? ["Continued: ", ...done] : []));
    field("continue-error").replaceChildren(...errors);
  });
  const again = debounce(() => { view.offset = 0; load(); }, 300);
  field("f-state").addEventListener("change", again);
  field("f-where").addEventListener("input", again);
  field("trial-filters").addEventListener("submit", (ev) => ev.preventDefault());
  poll(async () => {
    const l = await TY.live(id);
    live = new Map(l.trials.map((t) => [t.id, t]));
    await load();
    const badge = document.getElementById("exp-state");
    badge.textContent = l.state;
    badge.className = `state state-${l.state}`;
    return !TY.TERMINAL.has(l.state);
  }, 4000);
})();
