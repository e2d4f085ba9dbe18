// Trials table: every hparam and metric a column; sort/filter by any; select to compare.
"use strict";
(() => {
  const { api, h, num, fill, pager, poll, debounce, stateBadge } = TY;
  const id = document.getElementById("exp-head").dataset.experimentId;
  const metric = document.getElementById("exp-head").dataset.metric;
  const table = document.getElementById("trials-table");
  const field = (x) => document.getElementById(x);
  const unit = document.getElementById("exp-head").dataset.unit || "batches";
  const view = { sort: "id", offset: 0, limit: 50 };
  let live = new Map();  // trial id → live entry (trials that have not ended)
  const selected = new Set();

  function columns(page) {
    return [
      ["id", "ID", (r) => h("a", { href: `/ui/trials/${r.id}` }, r.id)],
      ["state", "State", (r) => {
        const l = live.get(r.id);
        return l && l.waiting ? h("span", {}, stateBadge(l.state), h("span", { class: "why" }, l.waiting)) : stateBadge(r.state);
      }],
      ["trained_length", `Trained (${unit})`, (r) => TY.trained(live.get(r.id) || { trained: r.trained_length, target: r.target_length }, "")],
      ["restarts", "Restarts", (r) => r.restarts],
      ["searcher_metric", metric, (r) => num(r.searcher_metric)],
      ...page.hparams.map((n) => [`hp.${n}`, n, (r) => num(r.hp[n])]),
      ...page.metrics.map((n) => [`m.${n}`, `${n} (latest)`, (r) => num(r.m[n])]),
    ];
  }

  function header(cols) {
    const ths = cols.map(([key, label]) => {
      const cls = ["sortable", view.sort === key ? "asc" : view.sort === "-" + key ? "desc" : "",
        key.startsWith("hp.") ? "hp" : key.startsWith("m.") ? "metric" : ""].join(" ");
      return h("th", { class: cls, "data-col": key, onclick: () => {
        view.sort = view.sort === key ? "-" + key : key; view.offset = 0; load();
      } }, label);
    });
    table.tHead.replaceChildren(h("tr", {}, h("th", {}, ""), ...ths));
  }

  function row(r, cols) {
    const box = h("input", { type: "checkbox", "data-trial": r.id, checked: selected.has(r.id), onchange: (ev) => {
      if (ev.target.checked) selected.add(r.id); else selected.delete(r.id);
      field("compare-selected").disabled = selected.size < 1;
    } });
    return h("tr", { "data-id": r.id }, h("td", {}, box), ...cols.map(([, , cell]) => h("td", {}, cell(r))));
  }

  async function load() {
    const q = new URLSearchParams({ sort: view.sort, limit: view.limit, offset: view.offset });
    if (field("f-state").value) q.set("state", field("f-state").value);
    if (field("f-where").value.trim()) q.set("where", field("f-where").value.trim());
    let page;
    try {
      page = await api(`/webui/experiments/${id}/trial_table?` + q);
      field("table-error").textContent = "";
    } catch (err) {
      field("table-error").textContent = err.message;
      return;
    }
    const cols = columns(page);
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
