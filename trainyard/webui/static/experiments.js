// Experiments list: filter, sort, search, archive view; refreshed every few seconds.
"use strict";
(() => {
  const { api, h, num, when, duration, stateBadge, progressBar, fill, pager, poll, debounce } = TY;
  const table = document.getElementById("experiments-table");
  const state = { sort: "-id", offset: 0, limit: 50 };
  const selected = new Set();
  const field = (id) => document.getElementById(id);

  function query() {
    const q = new URLSearchParams({ sort: state.sort, limit: state.limit, offset: state.offset });
    if (field("f-name").value) q.set("name", field("f-name").value);
    if (field("f-state").value) q.set("state", field("f-state").value);
    if (field("f-label").value) q.set("label", field("f-label").value);
    if (field("f-owner").value) q.set("owner", field("f-owner").value);
    q.set("archived", field("f-archived").checked ? "true" : "false");
    return q;
  }

  function counts(c) {
    return Object.entries(c || {}).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ") || "—";
  }

  function row(e) {
    const best = e.best_metric === null ? "—"
      : h("a", { href: `/ui/trials/${e.best_trial_id}` }, `${num(e.best_metric)} (${e.searcher_metric})`);
    const box = h("input", { type: "checkbox", "data-exp": e.id, checked: selected.has(e.id), onchange: (ev) => {
      if (ev.target.checked) selected.add(e.id); else selected.delete(e.id);
      bulkBar();
    } });
    return h("tr", { "data-id": e.id },
      h("td", {}, box),
      h("td", {}, h("a", { href: `/ui/experiments/${e.id}` }, e.id)),
      h("td", { class: "wrap name" }, h("a", { href: `/ui/experiments/${e.id}` }, e.name)),
      h("td", {}, stateBadge(e.state)),
      h("td", { class: "prog" }, progressBar(e.progress)),
      h("td", {}, e.searcher_name),
      h("td", {}, best),
      h("td", { class: "wrap counts" }, counts(e.trial_counts)),
      h("td", {}, e.owner || "—"),
      h("td", {}, when(e.created_at)),
      h("td", {}, duration(e.created_at, e.ended_at)),
      h("td", { class: "wrap labels" }, ...e.labels.map((l) => h("span", { class: "tag" }, l))),
    );
  }

  async function load() {
    const page = await api("/experiments?" + query());
    fill(table.tBodies[0], page.items.map(row));
    const going = page.items.filter((e) => !TY.TERMINAL.has(e.state)).map((e) => e.id);
    if (going.length) {  // live progress: work done since each trial's last validation counts
      const live = await api(`/webui/progress?experiment_ids=${going.join(",")}`).catch(() => ({}));
      for (const [eid, p] of Object.entries(live)) {
        const cell = table.querySelector(`tr[data-id='${eid}'] td.prog`);
        if (cell) cell.replaceChildren(progressBar(p));
      }
    }
    const filtered = ["f-name", "f-state", "f-label", "f-owner"].some((f) => field(f).value) || field("f-archived").checked;
    field("experiments-empty").hidden = page.total > 0 || filtered;
    field("experiments-nomatch").hidden = page.total > 0 || !filtered;
    table.hidden = page.total === 0;
    pager(field("experiments-pager"), page, (o) => { state.offset = o; load(); });
    table.dataset.loaded = String((Number(table.dataset.loaded) || 0) + 1);
    if (!window.__tableDrawn) window.__tableDrawn = performance.now();
  }

  for (const th of table.querySelectorAll("th[data-sort]")) {
    th.classList.add("sortable");
    th.addEventListener("click", () => {
      const key = th.dataset.sort;
      state.sort = state.sort === key ? "-" + key : key;
      for (const o of table.querySelectorAll("th")) o.classList.remove("asc", "desc");
      th.classList.add(state.sort.startsWith("-") ? "desc" : "asc");
      load();
    });
  }
  const again = debounce(() => { state.offset = 0; load(); }, 250);
  for (const id of ["f-name", "f-state", "f-label", "f-owner", "f-archived"]) {
    field(id).addEventListener("input", again);
    field(id).addEventListener("change", again);
  }
  field("exp-filters").addEventListener("submit", (ev) => ev.preventDefault());

  // Bulk actions: one confirmation for all, then each experiment in turn; every refusal is
  // listed with its experiment ("experiment 4: cannot archive ...").
  function bulkBar() {
    field("bulk-count").textContent = selected.size ? `${selected.size} selected:` : "Select experiments for bulk actions.";
    for (const b of document.querySelectorAll("#bulk button")) b.disabled = selected.size === 0;
  }
  field("select-all").addEventListener("change", (ev) => {
    for (const box of table.querySelectorAll("tbody input[data-exp]")) {
      box.checked = ev.target.checked;
      if (box.checked) selected.add(Number(box.dataset.exp)); else selected.delete(Number(box.dataset.exp));
    }
    bulkBar();
  });
  for (const b of document.querySelectorAll("#bulk button")) {
    b.addEventListener("click", async () => {
      const action = b.dataset.bulk;
      const ids = [...selected].sort((x, y) => x - y);
      const what = action === "delete" ? "Delete (cannot be undone)" : action[0].toUpperCase() + action.slice(1);
      if (!confirm(`${what} ${ids.length} experiment${ids.length === 1 ? "" : "s"}: ${ids.join(", ")}?`)) return;
      const errors = [];
      for (const eid of ids) {
        try {
          await api(action === "delete" ? `/experiments/${eid}` : `/experiments/${eid}/${action}`, { method: action === "delete" ? "DELETE" : "POST" });
          selected.delete(eid);
        } catch (err) { errors.push(`experiment ${eid}: ${err.message}`); }
      }
      field("bulk-error").replaceChildren(...errors.map((e) => h("li", {}, e)));
      field("select-all").checked = false;
      bulkBar();
      await load();
    });
  }
  poll(load, 5000);
})();
