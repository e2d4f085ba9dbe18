// Compare trials (any experiments): hparams side by side with differences marked, curves overlaid.
"use strict";
(() => {
  const { api, h, num } = TY;
  const field = (x) => document.getElementById(x);

  async function compare(ids) {
    field("compare-error").textContent = "";
    if (!ids) return;
    let items;
    try {
      items = await api(`/webui/compare?trial_ids=${encodeURIComponent(ids)}`);
    } catch (err) {
      field("compare-error").textContent = err.message;
      return;
    }
    field("compare-empty").hidden = true;
    const table = field("compare-table");
    table.tHead.replaceChildren(h("tr", {}, h("th", {}, ""), ...items.map((it) =>
      h("th", {}, h("a", { href: `/ui/trials/${it.trial.id}` }, `trial ${it.trial.id}`), h("br"),
        h("span", { class: "hint" }, `exp ${it.experiment.id} · ${it.experiment.name}`)))));
    const keys = [...new Set(items.flatMap((it) => Object.keys(it.hp)))].sort();
    const rows = [
      ["state", (it) => it.trial.state],
      ["trained length", (it) => it.trial.trained_length],
      ["best metric", (it) => `${num(it.trial.best_metric)} (${it.experiment.searcher_metric})`],
      ...keys.map((k) => [k, (it) => (k in it.hp ? num(it.hp[k]) : "—")]),
    ];
    table.tBodies[0].replaceChildren(...rows.map(([label, get]) => {
      const cells = items.map(get).map(String);
      const differs = new Set(cells).size > 1;
      return h("tr", { class: differs ? "differs" : "", "data-key": label }, h("th", {}, label), ...cells.map((c) => h("td", {}, c)));
    }));
    const groups = ["validation", "training"];
    const curves = await Promise.all(items.map((it) => Promise.all(groups.map((g) =>
      api(`/trials/${it.trial.id}/metrics?group=${g}&max_points=1000`)))));
    // Any metric of either group can be compared; the default is the searcher metric.
    const pick = field("compare-metric");
    const options = new Set();
    curves.forEach((byGroup) => byGroup.forEach((res, gi) => res.points.forEach((p) =>
      Object.keys(p.metrics).forEach((k) => options.add(`${groups[gi]}/${k}`)))));
    const chosen = pick.value || `validation/${items[0].experiment.searcher_metric}`;
    pick.replaceChildren(...[...options].sort().map((o) => h("option", { value: o }, o)));
    pick.value = options.has(chosen) ? chosen : [...options][0] || "";
    pick.onchange = () => drawCompared(items, curves, groups);
    await drawCompared(items, curves, groups);
  }

  async function drawCompared(items, curves, groups) {
    const [group, name] = field("compare-metric").value.split(/\/(.*)/s);
    const gi = groups.indexOf(group);
    const traces = items.map((it, i) => {
      const pts = gi < 0 ? [] : curves[i][gi].points.filter((p) => typeof p.metrics[name] === "number");
      return { type: "scatter", mode: pts.length > 1 ? "lines" : "markers", name: `trial ${it.trial.id} ${name}`, metric: name,
        x: pts.map((p) => p.steps), y: pts.map((p) => p.metrics[name]) };
    });
    await Charts.drawMetrics("compare-curves", traces, { log: field("compare-log").checked });
  }

  field("compare-log").addEventListener("change", () => field("compare-metric").onchange && field("compare-metric").onchange());
  field("compare-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ids = field("compare-ids").value.replace(/\s+/g, "");
    history.replaceState(null, "", `/ui/compare?trials=${ids}`);
    compare(ids);
  });
  compare(field("compare-ids").value.replace(/\s+/g, ""));
})();
