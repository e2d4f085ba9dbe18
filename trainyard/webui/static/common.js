// Shared helpers of every page: API calls (cookie auth), formatting, tables, polling.
"use strict";
const TY = (() => {
  const API = "/api/v1";
  // Ended states of experiments and trials as the API sends them (trainyard/master/states.py).
  const TERMINAL = new Set(["COMPLETED", "CANCELED", "ERRORED", "DELETE_FAILED"]);

  function banner(text) {
    const el = document.getElementById("banner");
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  async function api(path, options = {}) {
    const opts = { credentials: "same-origin", ...options, headers: { ...(options.headers || {}) } };
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    let response;
    try {
      response = await fetch(API + path, opts);
    } catch (err) {
      banner("Master unreachable: retrying. Check that the master is running.");
      throw new Error("master unreachable");
    }
    banner("");
    if (response.status === 401 && !path.startsWith("/auth/")) {
      location.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("not signed in");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    return body;
  }

  function num(v, digits = 4) {
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v === "string") return v;
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(digits);
  }

  // Local time as YYYY-MM-DD HH:MM:SS (what the server-rendered pages print too).
  function when(t) {
    if (!t) return "—";
    const d = new Date(t * 1000);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  function duration(start, end) {
    if (!start) return "—";
    let s = Math.max(0, Math.round((end || Date.now() / 1000) - start));
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
  }

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  // h("a", {href: "/x", class: "y"}, "text", child) → element.
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function stateBadge(state) {
    return h("span", { class: `state state-${state}` }, state);
  }

  function progressBar(p) {
    const bar = h("div", { class: "bar", style: `width: ${(100 * (p || 0)).toFixed(1)}%` });
    return h("div", { class: "progress", title: `${(100 * (p || 0)).toFixed(1)}%` }, bar);
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function pager(el, page, onOffset) {
    const { total, limit, offset } = page;
    el.replaceChildren();
    if (total <= limit) return;
    const last = Math.floor((total - 1) / limit) * limit;
    el.append(
      h("button", { disabled: offset === 0, onclick: () => onOffset(Math.max(0, offset - limit)) }, "‹ prev"),
      h("span", { class: "pos" }, ` ${offset + 1}–${Math.min(offset + limit, total)} of ${total} `),
      h("button", { disabled: offset >= last, onclick: () => onOffset(offset + limit) }, "next ›"),
    );
  }

  // Calls fn now and every `ms` while the tab is visible; fn returning false stops it.
  // <body data-polling> counts the pollers still running (0: the page is final).
  let polling = 0;
  function setPolling(delta) {
    polling += delta;
    if (document.body) document.body.dataset.polling = String(polling);
  }
  function poll(fn, ms) {
    let timer = null;
    let live = true;
    setPolling(1);
    const end = () => { if (live) { live = false; setPolling(-1); } };
    const tick = async () => {
      let again = true;
      if (!document.hidden) {
        try { again = (await fn()) !== false; } catch (err) { again = true; }
      }
      if (again && live) timer = setTimeout(tick, ms); else end();
    };
    tick();
    return () => { clearTimeout(timer); end(); };
  }

  // An experiment's live view (progress within searcher steps, waiting reasons, failures):
  // fills the page header's progress bar and returns the answer.
  async function live(experimentId) {
    const l = await api(`/webui/experiments/${experimentId}/live`);
    const bar = document.getElementById("exp-progress");
    if (bar) bar.style.width = `${(100 * l.progress).toFixed(1)}%`;
    const text = document.getElementById("sum-progress");
    if (text) text.textContent = `${(100 * l.progress).toFixed(1)}%`;
    return l;
  }

  // "181 / 240 batches" from a live trial entry.
  function trained(t, unit) {
    const n = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : "—");
    return (t.target ? `${n(t.trained)} / ${n(t.target)} ${unit}` : `${n(t.trained)} ${unit}`).trim();
  }

  function debounce(fn, ms) {
    let t = null;
    return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const out = document.getElementById("logout");
    if (out) out.addEventListener("click", async (ev) => {
      ev.preventDefault();
      await api("/auth/logout", { method: "POST" }).catch(() => null);
      location.href = "/ui/login";
    });
  });

  return { api, live, trained, banner, num, when, duration, bytes, h, stateBadge, progressBar, fill, pager, poll, debounce, TERMINAL };
})();
