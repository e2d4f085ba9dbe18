// A trial's log viewer: the whole log, read in pages of 10,000 lines by `after_id` (then long
// polled while following), kept in memory and drawn virtualised (only the lines in view are
// in the DOM, so 100,000 lines scroll smoothly); ANSI colours rendered; rank/stream filters and
// search (on the server) with a match count; download of the same view as text.
"use strict";
const LogViewer = (() => {
  const { api, h, debounce } = TY;
  const LINE = 18;  // px; every line is one row high (long lines are cut, the title shows all)
  const PAGE = 10000;
  const field = (x) => document.getElementById(x);

  // SGR escape codes → spans with ansi-<code> classes; everything else is plain text.
  const SGR = /\x1b\[([0-9;]*)m/g;
  function ansi(text) {
    const out = [];
    let classes = [];
    let at = 0;
    const push = (s) => { if (s) out.push(classes.length ? h("span", { class: classes.join(" ") }, s) : s); };
    for (const m of text.matchAll(SGR)) {
      push(text.slice(at, m.index));
      at = m.index + m[0].length;
      for (const code of (m[1] || "0").split(";").map(Number)) {
        if (code === 0) classes = [];
        else if (code === 1) classes.push("ansi-1");
        else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {  // a foreground colour
          classes = classes.filter((c) => c === "ansi-1");
          classes.push(`ansi-${code}`);
        }  // other codes (backgrounds, underline) are dropped, never printed
      }
    }
    push(text.slice(at));
    return out;
  }
  const plain = (text) => text.replace(SGR, "");

  function start(trialId) {
    const box = field("logs");
    const spacer = h("div", { class: "log-spacer" });
    const view = h("div", { class: "log-window" });
    spacer.append(view);
    box.replaceChildren(spacer);
    const state = { lines: [], after: 0, generation: 0, ended: false, ranks: new Set() };

    function render() {
      spacer.style.height = `${state.lines.length * LINE}px`;
      const first = Math.max(0, Math.floor(box.scrollTop / LINE) - 20);
      const last = Math.min(state.lines.length, first + Math.ceil(box.clientHeight / LINE) + 40);
      view.style.transform = `translateY(${first * LINE}px)`;
      view.replaceChildren(...state.lines.slice(first, last).map((l) => h("div",
        { class: `log ${l.stream}`, "data-id": l.id, title: plain(l.line) },
        `[${new Date(l.timestamp * 1000).toLocaleTimeString()}]${l.rank !== null ? ` [rank ${l.rank}]` : ""} `,
        ...ansi(l.line))));
      box.dataset.lines = String(state.lines.length);
    }
    box.addEventListener("scroll", () => requestAnimationFrame(render));

    function query(extra = {}) {
      const q = new URLSearchParams(extra);
      for (const [key, id] of [["search", "log-search"], ["rank", "log-rank"], ["stream", "log-stream"]]) {
        if (field(id).value) q.set(key, field(id).value);
      }
      return q;
    }

    function status(text) { field("log-status").textContent = text; }
    function count() {
      const n = state.lines.length.toLocaleString("en-US");
      return field("log-search").value ? `${n} matching line${state.lines.length === 1 ? "" : "s"}` : `${n} lines`;
    }

    async function follow() {
      const gen = ++state.generation;
      Object.assign(state, { lines: [], after: 0, ended: false });
      box.scrollTop = 0;
      render();
      field("log-download").href = `/api/v1/webui/trials/${trialId}/logs.txt?${query()}`;
      let caughtUp = false;
      while (gen === state.generation) {
        const wait = caughtUp && field("log-follow").checked ? 20 : 0;
        let page;
        try {
          page = await api(`/trials/${trialId}/logs?` + query({ after_id: state.after, limit: PAGE, timeout_seconds: wait }));
        } catch (err) { await new Promise((r) => setTimeout(r, 3000)); continue; }
        if (gen !== state.generation) return;
        const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 2 * LINE;
        state.lines.push(...page.lines);
        for (const l of page.lines) if (l.rank !== null && !state.ranks.has(l.rank)) addRank(l.rank);
        state.after = page.next_after_id;
        caughtUp = page.lines.length < PAGE;
        if (atBottom && field("log-follow").checked) box.scrollTop = state.lines.length * LINE;
        render();
        if (page.ended) { status(`trial ended: ${count()}, the whole log`); return; }
        status(!caughtUp ? `loading… ${count()}` : field("log-follow").checked ? `following… ${count()}` : `paused: ${count()}`);
        if (caughtUp && !field("log-follow").checked) {
          await new Promise((r) => { field("log-follow").addEventListener("change", r, { once: true }); });
        }
      }
    }

    function addRank(rank) {
      state.ranks.add(rank);
      const pick = field("log-rank");
      const options = [...state.ranks].sort((a, b) => a - b).map((r) => h("option", { value: r }, `rank ${r}`));
      const chosen = pick.value;
      pick.replaceChildren(h("option", { value: "" }, "any rank"), ...options);
      pick.value = chosen;
    }

    field("log-search").addEventListener("input", debounce(follow, 300));
    field("log-rank").addEventListener("change", follow);
    field("log-stream").addEventListener("change", follow);
    follow();
  }

  return { start, ansi };
})();
