// Experiment overview: live state/progress, rungs, best trial's curves, actions.
"use strict";
(() => {
  const { api, h, num, fill, poll } = TY;
  const head = document.getElementById("exp-head");
  const id = head.dataset.experimentId;
  const field = (x) => document.getElementById(x);
  let bestDrawn = null;

  function setText(x, text) { const el = field(x); if (el) el.textContent = text; }

  function showExperiment(e) {
    const badge = field("exp-state");
    badge.textContent = e.state;
    badge.className = `state state-${e.state}`;
    setText("sum-state", e.state);
    setText("sum-best", num(e.best_metric));
    setText("sum-priority", e.priority);
    setText("sum-ended", TY.when(e.ended_at));
    setText("sum-trials", Object.entries(e.trial_counts).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ") || "none yet");
    const bt = field("sum-best-trial");
    bt.replaceChildren(e.best_trial_id ? h("a", { href: `/ui/trials/${e.best_trial_id}` }, `trial ${e.best_trial_id}`) : "—");
    for (const b of document.querySelectorAll("#actions button[data-action]")) {
      const a = b.dataset.action;
      const ended = TY.TERMINAL.has(e.state);
      b.disabled = (a === "pause" && e.state !== "ACTIVE") || (a === "activate" && e.state !== "PAUSED")
        || ((a === "cancel" || a === "kill") && (ended || e.state.startsWith("STOPPING")))
        || (a === "archive" && (e.archived || !ended)) || (a === "unarchive" && !e.archived)
        || (a === "delete" && !ended);
    }
  }

  async function drawBest(trialId) {
    const [train, val] = await Promise.all([
      api(`/trials/${trialId}/metrics?group=training&max_points=1000`),
      api(`/trials/${trialId}/metrics?group=validation&max_points=1000`),
    ]);
    const traces = [];
    for (const [group, res, dash] of [["training", train, "solid"], ["validation", val, "dot"]]) {
      const names = new Set();
      for (const p of res.points) for (const k of Object.keys(p.metrics)) names.add(k);
      for (const name of [...names].sort()) {
        const pts = res.points.filter((p) => typeof p.metrics[name] === "number");
        if (!pts.length) continue;
        traces.push({ type: "scatter", mode: pts.length > 1 ? "lines" : "markers", name: `${group} ${name}`, metric: name,
          x: pts.map((p) => p.steps), y: pts.map((p) => p.metrics[name]), line: { dash } });
      }
    }
    field("best-empty").hidden = traces.length > 0;
    await Charts.drawMetrics("best-curves", traces,
      { log: field("best-log").checked, smoothing: Number(field("best-smooth").value) });
  }

  // Rungs as planned by the preview and as they went, with ASHA's promotion cutoff; a row
  // opens the trials that trained exactly that far.
  async function drawRungs() {
    const r = await api(`/webui/experiments/${id}/rungs_plan`);
    const n = (v) => (v === null || v === undefined ? "—" : v);
    fill(field("rungs-table").tBodies[0], r.rungs.map((g) => h("tr", { "data-length": g.length },
      h("td", {}, h("a", { href: `/ui/experiments/${id}/trials?where=${encodeURIComponent(`trained_length=${g.length}`)}` }, g.length.toLocaleString("en-US"))),
      h("td", {}, g.reached), h("td", {}, n(g.planned)), h("td", {}, g.promoted), h("td", {}, g.stopped),
      h("td", {}, num(g.cutoff)), h("td", {}, num(g.best_stopped)))));
    planPending = r.plan_pending;
    return r.plan;
  }
  let planPending = false;  // the preview is computed in the background: ask again

  // "Plan: 36 trials, 13,800 batches · 43.0% done · about 12m left (ETA 14:02)".
  function showPlan(plan, e, progress, unit) {
    if (!plan) { setText("plan-eta", ""); return; }
    const parts = [`Plan: ${plan.trials.toLocaleString("en-US")} trials, ${plan.length.toLocaleString("en-US")} ${unit} in all`,
      `${(100 * progress).toFixed(1)}% done`];
    if (!TY.TERMINAL.has(e.state) && progress > 0 && progress < 1) {
      const elapsed = Date.now() / 1000 - e.created_at;
      const left = (elapsed * (1 - progress)) / progress;
      const eta = new Date(Date.now() + left * 1000);
      parts.push(`about ${TY.duration(1, 1 + left)} left (ETA ${eta.toTimeString().slice(0, 5)})`);
    }
    setText("plan-eta", parts.join(" · "));
  }

  // Why the experiment failed: each failed trial once, with the last line of its traceback.
  function showFailures(failures) {
    const box = field("failures");
    box.hidden = !failures.length;
    fill(field("failures-list"), failures.map((f) => h("li", { "data-trial": f.trial_id },
      h("a", { href: `/ui/trials/${f.trial_id}` }, `trial ${f.trial_id}`),
      ` failed ${f.restarts} time${f.restarts === 1 ? "" : "s"}: `, h("code", {}, f.error || "no error output"),
      f.traceback.length > 1 ? h("details", {}, h("summary", {}, "traceback"), h("pre", { class: "logs short" }, f.traceback.join("\n"))) : null)));
  }

  // A population search's lineage as a nested list: parent → children, perturbations shown.
  async function drawLineage() {
    const rows = await api(`/webui/experiments/${id}/lineage`);
    field("lineage-card").hidden = rows.length === 0;
    if (!rows.length) return;
    const kids = new Map();
    for (const r of rows) kids.set(r.parent_id, [...(kids.get(r.parent_id) || []), r]);
    const node = (r) => h("li", { "data-trial": r.id },
      h("a", { href: `/ui/trials/${r.id}` }, `trial ${r.id}`), " ", TY.stateBadge(r.state), ` ${num(r.metric)}`,
      r.checkpoint ? h("span", { class: "hint" }, ` from checkpoint ${r.checkpoint.slice(0, 8)}`) : null,
      ...Object.entries(r.changed).map(([k, [a, b]]) => h("span", { class: "tag" }, `${k} ${num(a)} → ${num(b)}`)),
      kids.has(r.id) ? h("ul", {}, ...kids.get(r.id).map(node)) : null);
    field("lineage").replaceChildren(h("ul", { class: "tree" }, ...(kids.get(null) || []).map(node)));
  }

  async function refresh() {
    // The best trial's curves (the first screen's chart) never wait for the live view, the
    // rungs or the lineage, which are drawn beside them as their answers arrive.
    const live = TY.live(id);
    const e = await api(`/experiments/${id}`);
    showExperiment(e);
    const rungs = Promise.all([
      live.then((l) => showFailures(l.failures)),
      Promise.all([drawRungs(), live]).then(([plan, l]) => showPlan(plan, e, l.progress, l.unit)),
      drawLineage(),
    ]);
    if (e.best_trial_id && (e.best_trial_id !== bestDrawn || !TY.TERMINAL.has(e.state))) {
      await drawBest(e.best_trial_id);
      bestDrawn = e.best_trial_id;
    } else if (!e.best_trial_id) {
      field("best-empty").hidden = false;
    }
    await rungs;
    return !TY.TERMINAL.has(e.state) || e.state.startsWith("STOPPING") || planPending;
  }

  const confirmText = {
    pause: "Pause this experiment? Running trials checkpoint and free their slots.",
    activate: "Activate this experiment?",
    cancel: "Cancel this experiment? Trials stop gracefully; results are kept.",
    kill: "Kill this experiment? Trials are stopped at once.",
    fork: "Fork this experiment into a new one with the same config and model?",
    archive: "Archive this experiment? It leaves the default list; nothing is deleted.",
    unarchive: "Unarchive this experiment?",
    delete: "Delete this experiment, its trials, metrics, logs and checkpoints? This cannot be undone.",
  };

  async function act(action) {
    setText("action-error", "");
    let priority = null;
    if (action === "priority") {
      priority = Number(field("priority").value);
      if (!(priority >= 1 && priority <= 99)) { setText("action-error", "priority must be 1 to 99"); return; }
      if (!confirm(`Set this experiment's priority to ${priority}?`)) return;
    } else if (!confirm(confirmText[action])) {
      return;
    }
    try {
      if (action === "fork") {
        const child = await api(`/experiments/${id}/fork`, { method: "POST", json: { config: null } });
        location.href = `/ui/experiments/${child.id}`;
        return;
      }
      if (action === "delete") {
        await api(`/experiments/${id}`, { method: "DELETE" });
        location.href = "/ui/experiments";
        return;
      }
      const e = action === "priority"
        ? await api(`/experiments/${id}/priority`, { method: "POST", json: { priority } })
        : await api(`/experiments/${id}/${action}`, { method: "POST" });
      showExperiment(e);
      stop(); stop = poll(refresh, 2000);
    } catch (err) {
      setText("action-error", err.message);
    }
  }

  for (const b of document.querySelectorAll("#actions button[data-action]")) {
    b.addEventListener("click", () => act(b.dataset.action));
  }
  // Description: edited in place, saved with confirmation-free PUT (nothing is lost: the old
  // text is shown until the save succeeds).
  field("edit-description").addEventListener("click", () => { field("description-form").hidden = false; field("description-text").focus(); });
  field("description-cancel").addEventListener("click", () => { field("description-form").hidden = true; });
  field("description-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setText("action-error", "");
    try {
      const r = await api(`/webui/experiments/${id}/description`, { method: "PUT", json: { description: field("description-text").value } });
      setText("sum-description", r.description || "—");
      field("description-form").hidden = true;
    } catch (err) { setText("action-error", err.message); }
  });

  // Fork with an edited config: the YAML is checked by the searcher preview (the same
  // validation the master applies) and the fork can only be created from previewed text.
  let previewed = null;
  const forkText = () => field("fork-config").value;
  field("fork-edit").addEventListener("click", () => { field("fork-card").hidden = false; field("fork-card").scrollIntoView(); });
  field("fork-close").addEventListener("click", () => { field("fork-card").hidden = true; });
  field("fork-config").addEventListener("input", () => { field("fork-create").disabled = forkText() !== previewed; });
  field("fork-preview").addEventListener("click", async () => {
    setText("fork-error", "");
    field("fork-plan").hidden = true;
    try {
      const plan = await api("/preview", { method: "POST", json: { config: forkText() } });
      previewed = forkText();
      field("fork-plan").textContent = `${plan.method}: ${plan.total_trials.toLocaleString("en-US")} trials, `
        + `${plan.total_length.toLocaleString("en-US")} ${plan.unit} in all\n`
        + plan.brackets.map((b) => `bracket ${b.index}: ` + b.rungs.map((r) => `${r.length} ${plan.unit} × ${r.trials_reaching}`).join(" → ")).join("\n");
      field("fork-plan").hidden = false;
    } catch (err) {
      previewed = null;
      setText("fork-error", err.message);
    }
    field("fork-create").disabled = forkText() !== previewed;
  });
  field("fork-create").addEventListener("click", async () => {
    if (!confirm("Create a new experiment from this config and this experiment's model?")) return;
    try {
      const child = await api(`/experiments/${id}/fork`, { method: "POST", json: { config: forkText() } });
      location.href = `/ui/experiments/${child.id}`;
    } catch (err) { setText("fork-error", err.message); }
  });

  const handed = new URLSearchParams(location.search).get("fork") && sessionStorage.getItem(`trainyard.fork.${id}`);
  if (handed) {  // from the HPO page's "fork with this sub-space"
    field("fork-config").value = handed;
    sessionStorage.removeItem(`trainyard.fork.${id}`);
    field("fork-card").hidden = false;
    field("fork-card").scrollIntoView();
  }

  for (const x of ["best-log", "best-smooth"]) field(x).addEventListener("input", () => bestDrawn && drawBest(bestDrawn));
  let stop = poll(refresh, 2000);
})();
