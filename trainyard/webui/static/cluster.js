// Cluster: pools and their slots (what runs on each), running allocations, the queue.
"use strict";
(() => {
  const { api, h, when, fill, poll } = TY;
  const field = (x) => document.getElementById(x);
  const trialLink = (id) => (id ? h("a", { href: `/ui/trials/${id}` }, id) : "—");
  const expLink = (id) => (id ? h("a", { href: `/ui/experiments/${id}` }, id) : "—");

  function pool(p) {
    const slots = (p.slots_detail || []).map((s) => h("div", { class: `slot ${s.trial_id ? "busy" : "free"}`, "data-slot": s.index },
      h("b", {}, `slot ${s.index}`), h("br"),
      s.trial_id ? h("span", {}, "trial ", trialLink(s.trial_id), " · exp ", expLink(s.experiment_id)) : "free"));
    return h("div", { class: "pool", "data-pool": p.name },
      h("h3", {}, `${p.name} `, h("span", { class: "hint" }, `${p.used_slots} of ${p.slots} ${p.slot_type} slots used`)),
      h("div", { class: "slots" }, ...slots));
  }

  async function load() {
    const c = await api("/cluster");
    field("pools").replaceChildren(...c.pools.map(pool));
    fill(field("allocations-table").tBodies[0], c.allocations.map((a) => h("tr", {},
      h("td", { class: "mono" }, String(a.id).slice(0, 8)), h("td", {}, trialLink(a.trial_id)), h("td", {}, expLink(a.experiment_id)),
      h("td", {}, a.pool), h("td", {}, (a.slots || []).join(", ")), h("td", {}, a.state), h("td", {}, a.priority), h("td", {}, when(a.started_at)))));
    fill(field("queue-table").tBodies[0], c.queue.map((q) => h("tr", {},
      h("td", {}, q.position), h("td", {}, trialLink(q.trial_id)), h("td", {}, expLink(q.experiment_id)),
      h("td", {}, q.pool), h("td", {}, q.slots_needed), h("td", {}, q.priority), h("td", {}, when(q.queued_at)))));
    field("allocations-empty").hidden = c.allocations.length > 0;
    field("queue-empty").hidden = c.queue.length > 0;
    field("pools").dataset.loaded = "1";
  }
  poll(load, 3000);
})();
