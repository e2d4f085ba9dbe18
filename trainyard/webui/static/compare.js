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
    const curves = await Promise.all(items.map((it) => api(`/trials/${it.trial.id}/metrics?group=validation&max_points=1000`)));
    const traces = items.map((it, i) => {
      const name = it.experiment.searcher_metric;
      const pts = curves[i].points.filter((p) => typeof p.metrics[name] === "number");
      return { type: "scatter", mode: "lines+markers", name: `trial ${it.trial.id} ${name}`,
        x: pts.map((p) => p.steps), y: pts.map((p) => p.metrics[name]) };
    });
    await Charts.draw("compare-curves", traces, { xaxis: { title: { text: "steps (batches)" } } });
  }

  field("compare-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ids = field("compare-ids").value.replace(/\s+/g, "");
    history.replaceState(null, "", `/ui/compare?trials=${ids}`);
    compare(ids);
  });
  compare(field("compare-ids").value.replace(/\s+/g, ""));
})();
