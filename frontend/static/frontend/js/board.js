// The live results board: a snapshot on connect, then deltas with a sequence number.
// A frame whose seq is not the next one makes the board ask for a fresh snapshot.
// applyDelta follows tests/results/board_reference.py:apply_delta (the tested reference).
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("board-config").textContent);
  const DIMENSIONS = ["categories", "brands", "origins", "administrations", "entry_points", "days", "transport_modes", "detection_methods"];
  const LATEST_LIMIT = 20;
  // Quantities per measure, never added together: units (pieces and packs), kilograms, litres.
  const MEASURES = ["units", "kg", "litres"];
  const fmt = (n) => Hub.formatNumber(n);
  const compact = new Intl.NumberFormat("en-GB", { notation: "compact", maximumFractionDigits: 1 });
  const add = (a, b) => Math.round((Number(a) + Number(b)) * 1000) / 1000;
  let board = null;
  let live = null;
  const charts = {};

  // --- the model ------------------------------------------------------------------------------
  function merge(rows, changes, byKey) {
    const table = new Map(rows.map((r) => [r.key, { ...r }]));
    for (const c of changes) {
      const row = table.get(c.key) || { key: c.key, label: c.label, units: 0, kg: 0, litres: 0, cases: 0 };
      for (const m of MEASURES) row[m] = add(row[m] || 0, c[m] || 0);
      row.cases += c.cases;
      row.label = c.label;
      table.set(c.key, row);
    }
    const kept = [...table.values()].filter((r) => r.units || r.kg || r.litres || r.cases);
    if (byKey) return kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // biggest first: units, then kilograms, then litres, then the key (results/board.py:ordering)
    return kept.sort((a, b) => b.units - a.units || b.kg - a.kg || b.litres - a.litres || (String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : 0));
  }

  function applyDelta(state, frame) {
    const next = { ...state, seq: frame.seq };
    if (frame.totals) {
      next.totals = {
        units: add(state.totals.units, frame.totals.units),
        kg: add(state.totals.kg || 0, frame.totals.kg || 0),
        litres: add(state.totals.litres || 0, frame.totals.litres || 0),
        cases: state.totals.cases + frame.totals.cases,
        results: state.totals.results + frame.totals.results,
      };
      for (const name of DIMENSIONS) next[name] = merge(state[name] || [], frame[name] || [], name === "days");
      const total = next.categories.reduce((s, r) => s + r.units, 0) || 1;
      next.categories = next.categories.map((r) => ({ ...r, share: Math.round((r.units / total) * 1e6) / 1e6 }));
    }
    if (frame.latest) {
      const latest = frame.latest;
      if (frame.kind === "validation") next.latest = state.latest.map((r) => (r.uuid === latest.uuid ? latest : r));
      else next.latest = [{ ...latest, fresh: true }, ...state.latest.filter((r) => r.uuid !== latest.uuid)].slice(0, LATEST_LIMIT);
    }
    if (frame.compliance) {
      const cells = new Map(frame.compliance.map((c) => [`${c.entry_point}|${c.day}`, c.state]));
      next.compliance = {
        ...state.compliance,
        rows: state.compliance.rows.map((row) => ({
          ...row, cells: row.cells.map((s, i) => cells.get(`${row.entry_point}|${state.compliance.days[i]}`) || s),
        })),
      };
    }
    if (frame.chain_head) next.chain_head = frame.chain_head;
    return next;
  }

  // --- rendering ------------------------------------------------------------------------------
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const labels = {
    origins: (r) => `${config.countries[r.key] || r.key || Hub.t("not given")}`,
    transport_modes: (r) => config.transportModes[r.key] || Hub.t("not given"),
    detection_methods: (r) => config.detectionMethods[r.key] || Hub.t("not given"),
  };

  function renderTable(name) {
    const body = document.querySelector(`#table-${name} tbody`);
    if (!body) return;
    const rows = board[name].map((r) => {
      const tr = el("tr");
      tr.dataset.key = r.key;
      tr.append(el("td", (labels[name] || ((x) => x.label))(r)));
      if (name === "categories") {
        tr.append(el("td", fmt(r.units), "num"), el("td", `${(r.share * 100).toFixed(1)} %`, "num"), el("td", fmt(r.cases), "num"));
      } else {
        tr.append(el("td", fmt(r.cases), "num"), el("td", fmt(r.units), "num"));
      }
      return tr;
    });
    body.replaceChildren(...(rows.length ? rows : [Object.assign(el("tr"), { innerHTML: `<td colspan="4" class="muted"></td>` })].map((tr) => { tr.firstChild.textContent = Hub.t("nothing yet"); return tr; })));
  }

  function renderLatest() {
    const list = document.getElementById("latest");
    list.replaceChildren(...board.latest.map((r) => {
      const li = el("li", undefined, [r.fresh ? "fresh" : "", r.voided ? "voided" : ""].join(" ").trim());
      const a = el("a", `${r.inspected_at.slice(0, 16).replace("T", " ")} UTC · ${r.entry_point}`);
      a.href = `/operations/${encodeURIComponent(config.code)}/results/${r.uuid}/`;
      const goods = r.lines.map((l) => `${fmt(l.quantity)} ${(config.units[l.unit] || l.unit).toLowerCase()} ${l.category}`).join(", ");
      li.append(a, el("span", ` · ${config.outcomes[r.outcome] || r.outcome} · ${r.origin} · ${goods} · ${config.validations[r.validation] || r.validation}${r.late ? " · " + Hub.t("late") : ""}${r.version > 1 ? ` · v${r.version}` : ""}`));
      // a voided result stays in the list, struck through, with its reason (it counts nowhere)
      if (r.voided) li.append(el("span", ` ${Hub.t("voided")}${r.reason ? ": " + r.reason : ""}`, "void-reason"));
      return li;
    }));
    board.latest.forEach((r) => { delete r.fresh; });
  }

  function renderCompliance() {
    const grid = board.compliance;
    const head = el("tr"); head.append(el("th", Hub.t("Entry point")));
    grid.days.forEach((d) => head.append(el("th", d.slice(5))));
    document.querySelector("#compliance thead").replaceChildren(head);
    const marks = { results: "■", nil: "nil", none: "–" };
    document.querySelector("#compliance tbody").replaceChildren(...grid.rows.map((row) => {
      const tr = el("tr"); tr.append(el("td", row.name));
      row.cells.forEach((s, i) => { const td = el("td", marks[s], `cell ${s}`); td.title = `${row.name} ${grid.days[i]}: ${s}`; tr.append(td); });
      return tr;
    }));
  }

  function barChart(id, xs, ys, xLabels, time) {
    const target = document.getElementById(id);
    const width = Math.max(280, target.clientWidth || 400);
    const data = [xs, ys];
    if (charts[id] && charts[id].time === time) { charts[id].plot.setData(data); charts[id].labels = xLabels; return; }
    if (charts[id]) charts[id].plot.destroy();
    const holder = { labels: xLabels, time };
    const opts = {
      width, height: 220, legend: { show: false }, cursor: { show: true },
      scales: { x: { time, range: (u, min, max) => [min - 0.6 * (time ? 86400 : 1), max + 0.6 * (time ? 86400 : 1)] } },
      axes: [
        time ? {} : { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? (holder.labels[v] || "") : "")), rotate: 0, size: 40 },
        { values: (u, splits) => splits.map((v) => compact.format(v)), size: 50 },
      ],
      series: [{}, { label: Hub.t("Units"), fill: "rgba(47,111,159,0.6)", stroke: "#2f6f9f", paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false } }],
    };
    holder.plot = new uPlot(opts, data, target);
    charts[id] = holder;
  }

  function renderCharts() {
    if (typeof uPlot === "undefined") return;
    const days = board.days;
    barChart("chart-days", days.map((d) => Date.parse(`${d.key}T12:00:00Z`) / 1000), days.map((d) => d.units), [], true);
    const cats = board.categories;
    barChart("chart-categories", cats.map((_, i) => i), cats.map((c) => c.units), cats.map((c) => c.label.split(" ")[0]), false);
  }

  function render() {
    document.getElementById("kpi-units").textContent = fmt(board.totals.units);
    const beside = [];
    if (board.totals.kg) beside.push(`${fmt(board.totals.kg)} kg`);
    if (board.totals.litres) beside.push(`${fmt(board.totals.litres)} ${Hub.t("litres")}`);
    const others = document.getElementById("kpi-other-measures");
    if (others) { others.textContent = beside.join(" · "); others.hidden = !beside.length; }
    document.getElementById("kpi-cases").textContent = fmt(board.totals.cases);
    document.getElementById("kpi-results").textContent = fmt(board.totals.results);
    document.getElementById("kpi-chain-seq").textContent = `#${board.chain_head.seq}`;
    document.getElementById("kpi-chain-hash").textContent = board.chain_head.hash.slice(0, 16) + "…";
    document.getElementById("kpi-chain-hash").title = board.chain_head.hash;
    DIMENSIONS.forEach(renderTable);
    renderLatest();
    renderCompliance();
    renderCharts();
    document.body.dataset.boardSeq = board.seq;
  }

  // --- filters and the socket -----------------------------------------------------------------
  const filters = document.getElementById("board-filters");
  const fillSelect = (name, items) => items.forEach((i) => { const o = el("option", i.label); o.value = i.value; filters.elements[name].append(o); });
  fillSelect("administration", config.administrations.map((a) => ({ value: a.id, label: a.name })));
  fillSelect("entry_point", config.entryPoints.map((e) => ({ value: e.id, label: e.name })));
  fillSelect("category", config.categories.map((c) => ({ value: c.code, label: c.name })));
  fillSelect("day", config.days.map((d) => ({ value: d, label: d })));

  function filterFrame() {
    const v = (name) => filters.elements[name].value;
    return {
      type: "filter",
      administration: v("administration") ? Number(v("administration")) : null,
      entry_point: v("entry_point") ? Number(v("entry_point")) : null,
      category: v("category") || null,
      day: v("day") || null,
    };
  }
  const filtered = () => Object.values(filterFrame()).some((x) => x !== null && x !== "filter");
  filters.addEventListener("change", () => live && live.send(filterFrame()));

  const stateLabel = document.getElementById("board-state");
  live = Hub.liveSocket(`/ws/operations/${encodeURIComponent(config.code)}/board/`, {
    onOpen(send) { if (filtered()) send(filterFrame()); },
    onState(state) {
      stateLabel.dataset.state = state;
      stateLabel.textContent = { connecting: Hub.t("connecting…"), online: Hub.t("live"), offline: Hub.t("offline — will reconnect"), "signed-out": Hub.t("signed out") }[state] || state;
    },
    onFrame(frame, send) {
      if (frame.type === "board.snapshot") { board = frame; render(); return; }
      if (frame.type === "board.delta") {
        if (!board || frame.seq !== board.seq + 1) { send({ type: "snapshot" }); return; }
        board = applyDelta(board, frame);
        render();
        return;
      }
      if (frame.type === "error") console.warn("board:", frame.code, frame.message);
    },
  });
  setInterval(() => live.send({ type: "ping" }), 25000);
  window.HubBoard = { get state() { return board; }, applyDelta };
})();
