// HCAL live monitor: follows `hepml hcal serve` over Server-Sent Events and draws the shown
// lumisection's occupancy and anomaly-score maps per depth, its flagged channels and the run's
// timeline. Plain JS without dependencies: the page runs at the detector site without internet.
//
// Traffic is bounded however fast lumisections arrive (a replay sends 50+ LS/s): an SSE event
// only updates the in-memory LS summary; the maps and flags of a lumisection are fetched by at
// most one loader at a time, at most every LS_LOAD_INTERVAL_MS, and always for the newest wanted
// LS (intermediate ones are skipped); redraws are coalesced to one per RENDER_INTERVAL_MS; the
// full LS summary list (window completeness, missing LS) is re-read at most every
// SUMMARY_RESYNC_MS, and only when events came in since the last read.
"use strict";

(() => {
  const LS_LOAD_INTERVAL_MS = 400;
  const RENDER_INTERVAL_MS = 250;
  const SUMMARY_RESYNC_MS = 5000;
  const RUNS_REFRESH_MS = 3000;
  const RECONNECT_MAX_MS = 10000;
  const POLL_INTERVAL_MS = 1000;
  const ETA_SLOTS = 65; // ieta −32…32; the column of ieta 0 stays empty as a visual divider
  const PHI_COUNT = 72;
  const KINDS = ["occupancy", "score"];
  const KIND_TITLES = { occupancy: "Occupancy", score: "Anomaly score" };

  const COLORS = {
    inactive: "#2a3039",
    divider: "#131922",
    axis: "#8593a5",
    grid: "#232c38",
    text: "#d5dde7",
    flagged: "#ff6b5b",
    events: "#5cb8ff",
    incomplete: "#ffb84d",
    gap: "#3a4250",
    current: "#ffffff",
    highlight: "#00e5ff",
  };

  // Colour maps: lookup tables of 256 RGB triples interpolated from anchor colours.
  const lut = (anchors) => {
    const table = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = (i / 255) * (anchors.length - 1);
      const k = Math.min(Math.floor(t), anchors.length - 2);
      const f = t - k;
      for (let c = 0; c < 3; c++) table[i * 3 + c] = anchors[k][c] + (anchors[k + 1][c] - anchors[k][c]) * f;
    }
    return table;
  };
  const VIRIDIS = lut([[68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37]]);
  const INFERNO = lut([[22, 11, 57], [66, 10, 104], [106, 23, 110], [147, 38, 103], [188, 55, 84],
    [221, 81, 58], [243, 118, 27], [252, 165, 10], [246, 215, 70], [252, 255, 164]]);
  // Fixed score scale 0…2·threshold: calm blues below the flag threshold, hot colours above it,
  // so a flagged channel stands out at a glance.
  const SCORE_FIXED = (() => {
    const below = lut([[16, 44, 84], [36, 88, 150], [110, 165, 220]]);
    const above = lut([[255, 77, 61], [255, 150, 40], [255, 216, 77], [255, 255, 255]]);
    const table = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const source = i < 128 ? below : above;
      const j = i < 128 ? Math.round((i / 127) * 255) : Math.round(((i - 128) / 127) * 255);
      table.set(source.subarray(j * 3, j * 3 + 3), i * 3);
    }
    return table;
  })();

  const state = {
    depths: 0,
    threshold: null,
    runs: [],
    run: null,
    followNewestRun: true,
    summaries: new Map(), // ls → summary of the selected run
    summariesStale: false,
    followLatestLS: true,
    wantedLS: null, // the LS the page should show
    shown: null, // { run, ls, flags, maps: { occupancy: [..], score: [..] } } — what is drawn
    reloadShown: false, // the shown LS was re-scored: fetch it again
    hover: null, // { ieta, iphi, depth, kind }
    highlight: null, // { ieta, iphi, depth } from a hovered table row
    connected: false,
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    runSelect: $("run-select"),
    lsCurrent: $("ls-current"),
    lsCount: $("ls-count"),
    lsForm: $("ls-form"),
    lsInput: $("ls-input"),
    latest: $("ls-latest"),
    followState: $("follow-state"),
    status: $("status"),
    detector: $("detector"),
    summary: $("ls-summary"),
    hoverInfo: $("hover-info"),
    grid: $("heatmap-grid"),
    tableBody: document.querySelector("#flagged-table tbody"),
    flaggedCount: $("flagged-count"),
    flaggedEmpty: $("flagged-empty"),
    timeline: $("timeline"),
    timelineTip: $("timeline-tip"),
  };
  const heatmaps = []; // { kind, depth, canvas, colorbar, plot }

  // ---------- formatting ----------
  const fmt = (v) => {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e6) return v.toExponential(3);
    if (Number.isInteger(v)) return String(v);
    if (a >= 1e5 || (a > 0 && a < 1e-3)) return v.toExponential(2);
    if (a >= 100) return v.toFixed(0);
    return v.toPrecision(3);
  };
  const fmtShort = (v) => {
    if (!Number.isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e4) return v.toExponential(1).replace("e+", "e");
    if (a > 0 && a < 1e-2) return v.toExponential(0);
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return v.toPrecision(2);
  };
  const etaToColumn = (ieta) => ieta + 32;
  const columnToEta = (col) => col - 32;

  // ---------- HTTP ----------
  async function getJSON(path) {
    const response = await fetch(path, { cache: "no-store" });
    if (!response.ok) {
      let message = `${response.status}`;
      try { message = (await response.json()).error || message; } catch (_) { /* non-JSON error body */ }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }
  const runPath = (run) => `/api/runs/${encodeURIComponent(run)}`;

  // ---------- canvas helpers ----------
  function fitCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(1, canvas.clientWidth);
    const height = Math.max(1, canvas.clientHeight);
    const w = Math.round(width * dpr);
    const h = Math.round(height * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx, width, height };
  }

  // ---------- layout ----------
  function buildGrid(depths) {
    el.grid.textContent = "";
    heatmaps.length = 0;
    el.grid.style.gridTemplateColumns = `22px repeat(${depths}, minmax(0, 1fr))`;
    el.grid.appendChild(document.createElement("div"));
    for (let d = 1; d <= depths; d++) {
      const label = document.createElement("div");
      label.className = "depth-label";
      label.textContent = `Depth ${d}`;
      el.grid.appendChild(label);
    }
    for (const kind of KINDS) {
      const rowLabel = document.createElement("div");
      rowLabel.className = "row-label";
      rowLabel.textContent = KIND_TITLES[kind];
      el.grid.appendChild(rowLabel);
      for (let d = 1; d <= depths; d++) {
        const cell = document.createElement("div");
        cell.className = "map-cell";
        const canvas = document.createElement("canvas");
        canvas.className = "heatmap";
        canvas.dataset.kind = kind;
        canvas.dataset.depth = String(d);
        canvas.setAttribute("aria-label", `${KIND_TITLES[kind]} map, depth ${d}`);
        const colorbar = document.createElement("canvas");
        colorbar.className = "colorbar";
        colorbar.dataset.kind = kind;
        colorbar.dataset.depth = String(d);
        cell.append(canvas, colorbar);
        el.grid.appendChild(cell);
        const heatmap = { kind, depth: d, canvas, colorbar, plot: null };
        heatmaps.push(heatmap);
        canvas.addEventListener("mousemove", (event) => onHeatmapHover(heatmap, event));
        canvas.addEventListener("mouseleave", () => setHover(null));
      }
    }
  }

  // ---------- heatmaps ----------
  function mapOf(kind, depth) {
    const shown = state.shown;
    return shown ? shown.maps[kind][depth - 1] : null;
  }

  function colourScale(kind, map) {
    if (kind === "score" && state.threshold !== null && state.threshold > 0) {
      return { min: 0, max: 2 * state.threshold, threshold: state.threshold, table: SCORE_FIXED, clipped: true };
    }
    let min = map.min, max = map.max;
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      min = Infinity; max = -Infinity;
      for (const row of map.values) for (const v of row) if (v !== null) { if (v < min) min = v; if (v > max) max = v; }
      if (!Number.isFinite(min)) { min = 0; max = 1; }
    }
    if (max <= min) max = min + 1;
    return { min, max, threshold: null, table: kind === "score" ? INFERNO : VIRIDIS, clipped: false };
  }

  function channelImage(map, scale) {
    const image = new ImageData(ETA_SLOTS, PHI_COUNT);
    const pixels = image.data;
    const inactive = hexToRGB(COLORS.inactive);
    const divider = hexToRGB(COLORS.divider);
    const span = scale.max - scale.min;
    for (let col = 0; col < ETA_SLOTS; col++) {
      const ieta = columnToEta(col);
      const row = ieta === 0 ? null : map.values[ieta < 0 ? ieta + 32 : ieta + 31];
      for (let p = 0; p < PHI_COUNT; p++) {
        const y = PHI_COUNT - 1 - p; // iphi 1 at the bottom
        const o = (y * ETA_SLOTS + col) * 4;
        const v = row ? row[p] : undefined;
        let rgb;
        if (ieta === 0) rgb = divider;
        else if (v === null || v === undefined) rgb = inactive;
        else {
          const t = Math.min(1, Math.max(0, (v - scale.min) / span));
          const i = Math.round(t * 255) * 3;
          rgb = [scale.table[i], scale.table[i + 1], scale.table[i + 2]];
        }
        pixels[o] = rgb[0]; pixels[o + 1] = rgb[1]; pixels[o + 2] = rgb[2]; pixels[o + 3] = 255;
      }
    }
    const offscreen = document.createElement("canvas");
    offscreen.width = ETA_SLOTS;
    offscreen.height = PHI_COUNT;
    offscreen.getContext("2d").putImageData(image, 0, 0);
    return offscreen;
  }

  function hexToRGB(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  // Plot rectangle inside the canvas: room for the axes, cells kept between 0.6 and 2.6 times
  // as tall as wide so the map stays readable on any screen.
  function plotRect(width, height) {
    const left = 24, bottom = 16, top = 4, right = 2;
    let w = width - left - right;
    let h = height - top - bottom;
    const cellW = w / ETA_SLOTS, cellH = h / PHI_COUNT;
    if (cellH > cellW * 2.6) h = cellW * 2.6 * PHI_COUNT;
    if (cellH < cellW * 0.6) w = (cellH / 0.6) * ETA_SLOTS;
    const x = left + (width - left - right - w) / 2;
    const y = top + (height - top - bottom - h) / 2;
    return { x, y, w, h, cellW: w / ETA_SLOTS, cellH: h / PHI_COUNT };
  }

  function drawHeatmap(heatmap) {
    const { canvas, kind, depth } = heatmap;
    const { ctx, width, height } = fitCanvas(canvas);
    const plot = plotRect(width, height);
    heatmap.plot = plot;
    const map = mapOf(kind, depth);
    const shown = state.shown;
    drawHeatmapAxes(ctx, plot);
    if (!map || map.error) {
      ctx.fillStyle = COLORS.inactive;
      ctx.fillRect(plot.x, plot.y, plot.w, plot.h);
      ctx.fillStyle = COLORS.axis;
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center";
      const note = !shown ? "waiting for data" : map && map.error === 404 ? "map no longer kept" : "no map";
      ctx.fillText(note, plot.x + plot.w / 2, plot.y + plot.h / 2);
      delete canvas.dataset.drawn;
      if (shown) canvas.dataset.unavailable = `${shown.run}:${shown.ls}`;
      heatmap.scale = null;
      drawColorbar(heatmap);
      return;
    }
    const scale = colourScale(kind, map);
    heatmap.scale = scale;
    if (!map.image || map.imageScaleKey !== `${scale.min}:${scale.max}`) {
      map.image = channelImage(map, scale);
      map.imageScaleKey = `${scale.min}:${scale.max}`;
    }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(map.image, plot.x, plot.y, plot.w, plot.h);
    drawHeatmapOverlays(ctx, plot, kind, depth);
    drawColorbar(heatmap);
    delete canvas.dataset.unavailable;
    canvas.dataset.drawn = `${shown.run}:${shown.ls}`;
  }

  function cellRect(plot, ieta, iphi) {
    return {
      x: plot.x + etaToColumn(ieta) * plot.cellW,
      y: plot.y + (PHI_COUNT - iphi) * plot.cellH,
      w: plot.cellW,
      h: plot.cellH,
    };
  }

  function drawHeatmapAxes(ctx, plot) {
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, plot.w + 1, plot.h + 1);
    ctx.fillStyle = COLORS.axis;
    ctx.font = "10px ui-monospace, 'DejaVu Sans Mono', monospace";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const ieta of [-30, -15, 15, 30]) {
      const x = plot.x + (etaToColumn(ieta) + 0.5) * plot.cellW;
      ctx.fillRect(x, plot.y + plot.h, 1, 3);
      ctx.fillText(String(ieta), x, plot.y + plot.h + 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const iphi of [1, 18, 36, 54, 72]) {
      const y = plot.y + (PHI_COUNT - iphi + 0.5) * plot.cellH;
      ctx.fillRect(plot.x - 3, y, 3, 1);
      ctx.fillText(String(iphi), plot.x - 4, y);
    }
  }

  function drawHeatmapOverlays(ctx, plot, kind, depth) {
    const shown = state.shown;
    if (kind === "score" && shown && shown.flags) {
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.lineWidth = 1;
      for (const f of shown.flags) {
        if (f.depth !== depth) continue;
        const r = cellRect(plot, f.ieta, f.iphi);
        ctx.strokeRect(r.x - 1.5, r.y - 1.5, r.w + 3, r.h + 3);
      }
    }
    for (const mark of [state.hover, state.highlight]) {
      if (!mark || mark.depth !== depth) continue;
      const r = cellRect(plot, mark.ieta, mark.iphi);
      const cx = r.x + r.w / 2, cy = r.y + r.h / 2;
      ctx.strokeStyle = COLORS.highlight;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(cx, cy, Math.max(7, r.w * 2), 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(plot.x, cy); ctx.lineTo(plot.x + plot.w, cy);
      ctx.moveTo(cx, plot.y); ctx.lineTo(cx, plot.y + plot.h);
      ctx.strokeStyle = "rgba(0,229,255,0.35)";
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function drawColorbar(heatmap) {
    const { ctx } = fitCanvas(heatmap.colorbar);
    const plot = heatmap.plot;
    const scale = heatmap.scale;
    if (!plot || !scale) return;
    const x = 1, w = 8, y = plot.y, h = plot.h;
    for (let i = 0; i < 256; i++) {
      const t = scale.table;
      ctx.fillStyle = `rgb(${t[i * 3]},${t[i * 3 + 1]},${t[i * 3 + 2]})`;
      const y0 = y + h - ((i + 1) / 256) * h;
      ctx.fillRect(x, Math.floor(y0), w, Math.ceil(h / 256) + 1);
    }
    ctx.strokeStyle = COLORS.grid;
    ctx.strokeRect(x - 0.5, y - 0.5, w + 1, h + 1);
    ctx.fillStyle = COLORS.text;
    ctx.font = "10px ui-monospace, 'DejaVu Sans Mono', monospace";
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText((scale.clipped ? "≥" : "") + fmtShort(scale.max), x + w + 3, y);
    ctx.textBaseline = "bottom";
    ctx.fillText(fmtShort(scale.min), x + w + 3, y + h);
    if (scale.threshold !== null) {
      const ty = y + h - ((scale.threshold - scale.min) / (scale.max - scale.min)) * h;
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(x - 2, Math.round(ty), w + 6, 2);
      ctx.textBaseline = "middle";
      ctx.fillText(fmtShort(scale.threshold), x + w + 3, ty - 7);
      ctx.fillStyle = COLORS.axis;
      ctx.fillText("flag", x + w + 3, ty + 7);
    }
  }

  function drawHeatmapsOfDepth(depth) {
    for (const heatmap of heatmaps) if (heatmap.depth === depth) drawHeatmap(heatmap);
  }

  // ---------- hover ----------
  function onHeatmapHover(heatmap, event) {
    const plot = heatmap.plot;
    if (!plot) return;
    const rect = heatmap.canvas.getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left - plot.x) / plot.cellW);
    const row = Math.floor((event.clientY - rect.top - plot.y) / plot.cellH);
    const ieta = columnToEta(col);
    const iphi = PHI_COUNT - row;
    if (col < 0 || col >= ETA_SLOTS || ieta === 0 || iphi < 1 || iphi > PHI_COUNT) { setHover(null); return; }
    setHover({ ieta, iphi, depth: heatmap.depth, kind: heatmap.kind });
  }

  function valueAt(kind, depth, ieta, iphi) {
    const map = mapOf(kind, depth);
    if (!map || map.error) return undefined;
    const row = map.values[ieta < 0 ? ieta + 32 : ieta + 31];
    return row ? row[iphi - 1] : undefined;
  }

  function setHover(hover) {
    const previous = state.hover;
    if (previous && hover && previous.ieta === hover.ieta && previous.iphi === hover.iphi &&
        previous.depth === hover.depth && previous.kind === hover.kind) return;
    state.hover = hover;
    if (previous) drawHeatmapsOfDepth(previous.depth);
    if (hover && (!previous || previous.depth !== hover.depth)) drawHeatmapsOfDepth(hover.depth);
    updateHoverInfo();
    highlightTableRow(hover);
  }

  function updateHoverInfo() {
    const hover = state.hover;
    const info = el.hoverInfo;
    for (const key of ["ieta", "iphi", "depth", "kind", "value"]) delete info.dataset[key];
    if (!hover) { info.textContent = "hover over a heatmap to read a channel"; return; }
    const value = valueAt(hover.kind, hover.depth, hover.ieta, hover.iphi);
    const other = hover.kind === "score" ? "occupancy" : "score";
    const otherValue = valueAt(other, hover.depth, hover.ieta, hover.iphi);
    const describe = (v) => (v === null ? "inactive" : v === undefined ? "–" : fmt(v));
    const flagged = state.shown && state.shown.flags &&
      state.shown.flags.some((f) => f.ieta === hover.ieta && f.iphi === hover.iphi && f.depth === hover.depth);
    info.textContent = `ieta ${hover.ieta}  iphi ${hover.iphi}  depth ${hover.depth}  ` +
      `${hover.kind} ${describe(value)}   ·   ${other} ${describe(otherValue)}${flagged ? "   ⚑ flagged" : ""}`;
    info.dataset.ieta = String(hover.ieta);
    info.dataset.iphi = String(hover.iphi);
    info.dataset.depth = String(hover.depth);
    info.dataset.kind = hover.kind;
    info.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  function highlightTableRow(channel) {
    for (const row of el.tableBody.querySelectorAll("tr.hovered")) row.classList.remove("hovered");
    if (!channel) return;
    const selector = `tr[data-ieta="${channel.ieta}"][data-iphi="${channel.iphi}"][data-depth="${channel.depth}"]`;
    const row = el.tableBody.querySelector(selector);
    if (row) row.classList.add("hovered");
  }

  // ---------- flagged table ----------
  function renderTable() {
    const shown = state.shown;
    const flags = shown && shown.flags ? [...shown.flags].sort((a, b) => b.score - a.score) : [];
    const fragment = document.createDocumentFragment();
    for (const f of flags) {
      const tr = document.createElement("tr");
      tr.dataset.ieta = String(f.ieta);
      tr.dataset.iphi = String(f.iphi);
      tr.dataset.depth = String(f.depth);
      for (const text of [f.ieta, f.iphi, f.depth, fmt(f.score)]) {
        const td = document.createElement("td");
        td.textContent = String(text);
        tr.appendChild(td);
      }
      fragment.appendChild(tr);
    }
    el.tableBody.replaceChildren(fragment);
    highlightTableRow(state.hover);
    el.flaggedCount.textContent = String(flags.length);
    el.flaggedCount.classList.toggle("alarm", flags.length > 0);
    el.flaggedEmpty.hidden = flags.length > 0;
    el.flaggedEmpty.textContent = shown && shown.flagsError ? `flags unavailable: ${shown.flagsError}` : "no flagged channels";
  }

  function tableRowChannel(event) {
    const tr = event.target.closest("tr");
    if (!tr || !tr.dataset.ieta) return null;
    return { ieta: Number(tr.dataset.ieta), iphi: Number(tr.dataset.iphi), depth: Number(tr.dataset.depth) };
  }

  el.tableBody.addEventListener("mouseover", (event) => {
    const channel = tableRowChannel(event);
    const previous = state.highlight;
    state.highlight = channel;
    if (previous) drawHeatmapsOfDepth(previous.depth);
    if (channel && (!previous || previous.depth !== channel.depth)) drawHeatmapsOfDepth(channel.depth);
  });
  el.tableBody.addEventListener("mouseleave", () => {
    const previous = state.highlight;
    state.highlight = null;
    if (previous) drawHeatmapsOfDepth(previous.depth);
  });

  // ---------- header ----------
  function sortedLS() {
    return [...state.summaries.keys()].sort((a, b) => a - b);
  }
  function latestLS() {
    let max = null;
    for (const ls of state.summaries.keys()) if (max === null || ls > max) max = ls;
    return max;
  }

  function renderHeader() {
    el.lsCount.textContent = String(state.summaries.size);
    el.lsCurrent.textContent = state.shown ? String(state.shown.ls) : "–";
    el.latest.classList.toggle("active", state.followLatestLS);
    const notes = [];
    if (!state.followNewestRun) notes.push("run pinned");
    if (!state.followLatestLS) notes.push("LS pinned — Latest follows again");
    el.followState.textContent = notes.join(" · ");
    renderSummary();
  }

  function renderSummary() {
    const shown = state.shown;
    if (!shown) { el.summary.textContent = state.run === null ? "waiting for the first lumisection…" : ""; return; }
    const s = state.summaries.get(shown.ls);
    el.summary.replaceChildren();
    const part = (label, value, cls) => {
      const span = document.createElement("span");
      span.append(`${label} `);
      const b = document.createElement("b");
      b.textContent = value;
      if (cls) b.className = cls;
      span.appendChild(b);
      span.append("   ");
      el.summary.appendChild(span);
    };
    part("run", String(shown.run));
    part("LS", String(shown.ls));
    if (s) {
      part("NumEvents", fmt(s.num_events));
      if (s.total_occupancy !== undefined) part("total occupancy", fmt(s.total_occupancy));
      part("flagged", fmt(s.flagged), s.flagged > 0 ? "alarm" : "");
      part("max score", fmt(s.max_score), state.threshold !== null && s.max_score > state.threshold ? "alarm" : "");
      if (s.window_complete === false) {
        const missing = (s.missing_ls || []).join(", ");
        part("window", `incomplete${missing ? ` (missing LS ${missing})` : ""}`, "warn");
      }
    }
  }

  function setStatus(text) {
    el.status.textContent = text;
    el.status.className = `status status-${text}`;
  }

  // ---------- timeline ----------
  const timelineLayout = { left: 58, right: 70, top: 12, bottom: 24 };

  function timelineGeometry(width, height, lo, hi) {
    const { left, right, top, bottom } = timelineLayout;
    const w = Math.max(1, width - left - right), h = Math.max(1, height - top - bottom);
    const n = hi - lo + 1;
    return { left, top, w, h, lo, hi, step: w / n, x: (ls) => left + ((ls - lo) / n) * w };
  }

  // Smallest 1, 2 or 5 × 10^k at or above `v` (axis steps), at least `floor`.
  function niceStep(v, floor) {
    if (v <= floor) return floor;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawTimeline() {
    const canvas = el.timeline;
    const { ctx, width, height } = fitCanvas(canvas);
    const list = sortedLS();
    canvas.dataset.drawn = String(list.length);
    state.timelineGeometry = null;
    ctx.font = "11px ui-monospace, 'DejaVu Sans Mono', monospace";
    if (list.length === 0) {
      ctx.fillStyle = COLORS.axis;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("no lumisections yet", width / 2, height / 2);
      return;
    }
    const lo = Math.min(1, list[0]);
    const hi = list[list.length - 1];
    const g = timelineGeometry(width, height, lo, hi);
    state.timelineGeometry = g;
    let maxFlagged = 0, maxEvents = 0;
    for (const ls of list) {
      const s = state.summaries.get(ls);
      maxFlagged = Math.max(maxFlagged, s.flagged || 0);
      maxEvents = Math.max(maxEvents, s.num_events || 0);
    }
    const flaggedTop = 4 * niceStep(maxFlagged / 4, 1);
    const eventsTop = 4 * niceStep(maxEvents / 4, 1);
    const yFlag = (v) => g.top + g.h - (v / flaggedTop) * g.h;
    const yEvents = (v) => g.top + g.h - (v / eventsTop) * g.h;

    // grid + axes
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(g.top + (g.h * i) / 4) + 0.5;
      ctx.beginPath(); ctx.moveTo(g.left, y); ctx.lineTo(g.left + g.w, y); ctx.stroke();
      ctx.fillStyle = COLORS.flagged;
      ctx.textAlign = "right";
      ctx.fillText(fmtShort(flaggedTop * (1 - i / 4)), g.left - 6, y);
      ctx.fillStyle = COLORS.events;
      ctx.textAlign = "left";
      ctx.fillText(fmtShort(eventsTop * (1 - i / 4)), g.left + g.w + 6, y);
    }
    ctx.save();
    ctx.translate(12, g.top + g.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillStyle = COLORS.flagged;
    ctx.fillText("flagged", 0, 0);
    ctx.restore();
    ctx.save();
    ctx.translate(width - 10, g.top + g.h / 2);
    ctx.rotate(Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillStyle = COLORS.events;
    ctx.fillText("NumEvents", 0, 0);
    ctx.restore();

    // LS not received (between the run's first slot and its latest LS): hatched bands
    ctx.fillStyle = hatchPattern(ctx);
    let gapStart = null;
    for (let ls = lo; ls <= hi + 1; ls++) {
      const missing = ls <= hi && !state.summaries.has(ls);
      if (missing && gapStart === null) gapStart = ls;
      if (!missing && gapStart !== null) {
        const x0 = g.x(gapStart), x1 = g.x(ls);
        ctx.fillRect(x0, g.top, Math.max(1, x1 - x0), g.h);
        gapStart = null;
      }
      if (ls > hi) break;
    }

    // flagged channels: bars on the left axis
    const barW = Math.max(1, g.step * 0.8);
    ctx.fillStyle = COLORS.flagged;
    for (const ls of list) {
      const f = state.summaries.get(ls).flagged || 0;
      if (f <= 0) continue;
      const y = yFlag(f);
      ctx.fillRect(g.x(ls) + (g.step - barW) / 2, y, barW, g.top + g.h - y);
    }

    // NumEvents: a line on the right axis, broken at gaps
    ctx.strokeStyle = COLORS.events;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let previous = null;
    for (const ls of list) {
      const s = state.summaries.get(ls);
      const x = g.x(ls) + g.step / 2, y = yEvents(s.num_events || 0);
      if (previous !== null && ls === previous + 1) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      if (list.length === 1) ctx.lineTo(x + 0.5, y);
      previous = ls;
    }
    ctx.stroke();

    // window incomplete: a strip under the plot
    ctx.fillStyle = COLORS.incomplete;
    for (const ls of list) {
      if (state.summaries.get(ls).window_complete === false) {
        ctx.fillRect(g.x(ls), g.top + g.h + 1, Math.max(2, g.step), 4);
      }
    }

    // x axis: LS ticks
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const tickStep = niceStep((hi - lo + 1) / 12, 1);
    const firstTick = Math.ceil(lo / tickStep) * tickStep;
    for (let ls = Math.max(firstTick, 1); ls <= hi; ls += tickStep) {
      const x = g.x(ls) + g.step / 2;
      ctx.fillRect(x, g.top + g.h + 5, 1, 3);
      ctx.fillText(String(ls), x, g.top + g.h + 9);
    }

    // shown LS
    if (state.shown && state.shown.run === state.run) {
      const x = Math.round(g.x(state.shown.ls) + g.step / 2) + 0.5;
      ctx.strokeStyle = COLORS.current;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(x, g.top); ctx.lineTo(x, g.top + g.h); ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  let hatchTile = null;
  function hatchPattern(ctx) {
    if (hatchTile) return ctx.createPattern(hatchTile, "repeat");
    const tile = document.createElement("canvas");
    tile.width = 6; tile.height = 6;
    const t = tile.getContext("2d");
    t.strokeStyle = COLORS.gap;
    t.lineWidth = 2;
    t.beginPath(); t.moveTo(0, 6); t.lineTo(6, 0); t.stroke();
    hatchTile = tile;
    return ctx.createPattern(tile, "repeat");
  }

  function timelineLSAt(event) {
    const g = state.timelineGeometry;
    if (!g) return null;
    const rect = el.timeline.getBoundingClientRect();
    const x = event.clientX - rect.left;
    if (x < g.left || x > g.left + g.w) return null;
    return g.lo + Math.floor(((x - g.left) / g.w) * (g.hi - g.lo + 1));
  }

  // The stored LS nearest to `ls` (clicks on gaps land on a neighbour).
  function nearestStoredLS(ls) {
    if (state.summaries.has(ls)) return ls;
    let best = null;
    for (const candidate of state.summaries.keys()) {
      if (best === null || Math.abs(candidate - ls) < Math.abs(best - ls)) best = candidate;
    }
    return best;
  }

  el.timeline.addEventListener("click", (event) => {
    const ls = timelineLSAt(event);
    if (ls === null) return;
    const target = nearestStoredLS(ls);
    if (target !== null) pickLS(target);
  });
  el.timeline.addEventListener("mousemove", (event) => {
    const ls = timelineLSAt(event);
    const tip = el.timelineTip;
    if (ls === null) { tip.hidden = true; return; }
    const s = state.summaries.get(ls);
    tip.textContent = s
      ? `LS ${ls}\nNumEvents ${fmt(s.num_events)}\nflagged ${fmt(s.flagged)}\nmax score ${fmt(s.max_score)}` +
        (s.window_complete === false ? `\nwindow incomplete${s.missing_ls && s.missing_ls.length ? `: missing ${s.missing_ls.join(", ")}` : ""}` : "")
      : `LS ${ls}\nnot received`;
    const rect = el.timeline.getBoundingClientRect();
    const x = event.clientX - rect.left;
    tip.hidden = false;
    tip.style.left = `${Math.min(x + 14, rect.width - tip.offsetWidth - 4)}px`;
    tip.style.top = "8px";
  });
  el.timeline.addEventListener("mouseleave", () => { el.timelineTip.hidden = true; });

  // ---------- render scheduling ----------
  const pending = { header: false, timeline: false, maps: false, table: false };
  let renderTimer = null;
  let lastRender = 0;

  function scheduleRender(parts) {
    Object.assign(pending, parts);
    if (renderTimer !== null) return;
    const wait = Math.max(0, lastRender + RENDER_INTERVAL_MS - performance.now());
    renderTimer = setTimeout(renderNow, wait);
  }

  function renderNow() {
    renderTimer = null;
    lastRender = performance.now();
    const parts = { ...pending };
    for (const key of Object.keys(pending)) pending[key] = false;
    if (parts.maps) for (const heatmap of heatmaps) drawHeatmap(heatmap);
    if (parts.table) renderTable();
    if (parts.header) renderHeader();
    if (parts.timeline) drawTimeline();
    if (parts.maps && state.hover) updateHoverInfo();
  }

  // ---------- LS loading ----------
  let loadInFlight = false;
  let lastLoadStart = -Infinity;
  let loadTimer = null;

  function wantLS(ls) {
    state.wantedLS = ls;
    pumpLoads();
  }

  function pumpLoads() {
    if (loadInFlight || loadTimer !== null || state.run === null || state.wantedLS === null) return;
    const shown = state.shown;
    const upToDate = shown && shown.run === state.run && shown.ls === state.wantedLS && !state.reloadShown;
    if (upToDate) return;
    const wait = lastLoadStart + LS_LOAD_INTERVAL_MS - performance.now();
    if (wait > 0) {
      loadTimer = setTimeout(() => { loadTimer = null; pumpLoads(); }, wait);
      return;
    }
    loadLS(state.run, state.wantedLS);
  }

  async function loadLS(run, ls) {
    loadInFlight = true;
    lastLoadStart = performance.now();
    if (state.shown && state.shown.run === run && state.shown.ls === ls) state.reloadShown = false;
    const base = `${runPath(run)}/lumisections/${ls}`;
    const mapRequest = (kind, depth) =>
      getJSON(`${base}/maps?kind=${kind}&depth=${depth}`).catch((error) => ({ error: error.status || 0 }));
    const depths = Array.from({ length: state.depths }, (_, i) => i + 1);
    try {
      const [flags, occupancy, score] = await Promise.all([
        getJSON(`${base}/flags`).catch((error) => ({ error: error.message })),
        Promise.all(depths.map((d) => mapRequest("occupancy", d))),
        Promise.all(depths.map((d) => mapRequest("score", d))),
      ]);
      if (run !== state.run) return; // the user switched runs meanwhile
      if (state.threshold === null) {
        const withThreshold = score.find((m) => m && typeof m.threshold === "number");
        if (withThreshold) state.threshold = withThreshold.threshold;
      }
      state.shown = {
        run, ls,
        flags: Array.isArray(flags) ? flags : [],
        flagsError: Array.isArray(flags) ? null : flags.error,
        maps: { occupancy, score },
      };
      scheduleRender({ maps: true, table: true, header: true, timeline: true });
    } finally {
      loadInFlight = false;
      pumpLoads();
    }
  }

  function pickLS(ls) {
    state.followLatestLS = ls === latestLS();
    wantLS(ls);
    scheduleRender({ header: true });
  }

  function followLatest() {
    state.followLatestLS = true;
    const latest = latestLS();
    if (latest !== null) wantLS(latest);
    scheduleRender({ header: true });
  }

  // ---------- runs and summaries ----------
  function renderRunOptions() {
    const select = el.runSelect;
    const fragment = document.createDocumentFragment();
    for (const r of state.runs) {
      const option = document.createElement("option");
      option.value = String(r.run);
      const flagged = r.flagged_lumisections ? `, ${r.flagged_lumisections} flagged` : "";
      option.textContent = `${r.run}  (${r.lumisections} LS${flagged})`;
      fragment.appendChild(option);
    }
    if (state.runs.length === 0) {
      const option = document.createElement("option");
      option.value = "";
      option.textContent = "no runs yet";
      option.disabled = true;
      fragment.appendChild(option);
    }
    select.replaceChildren(fragment);
    if (state.run !== null) select.value = String(state.run);
  }

  async function refreshRuns() {
    state.runs = await getJSON("/api/runs");
    renderRunOptions();
    const newest = state.runs.length > 0 ? state.runs[0].run : null;
    const known = state.runs.some((r) => r.run === state.run);
    if (newest !== null && ((state.followNewestRun && newest !== state.run) || !known)) {
      await switchRun(newest, { followNewest: true });
    }
  }

  async function switchRun(run, { followNewest }) {
    state.run = run;
    state.followNewestRun = followNewest;
    state.followLatestLS = true;
    state.summaries = new Map();
    state.shown = null;
    state.wantedLS = null;
    el.runSelect.value = String(run);
    scheduleRender({ header: true, timeline: true, maps: true, table: true });
    await refreshSummaries();
  }

  async function refreshSummaries() {
    const run = state.run;
    if (run === null) return;
    state.summariesStale = false;
    const list = await getJSON(`${runPath(run)}/lumisections`);
    if (run !== state.run) return;
    const fresh = new Map();
    for (const s of list) fresh.set(s.ls, s);
    // Events that arrived while the list was in flight are newer than it: keep them.
    for (const [ls, s] of state.summaries) if (!fresh.has(ls)) fresh.set(ls, s);
    const shown = state.shown;
    if (shown && shown.run === run) {
      const before = state.summaries.get(shown.ls), after = fresh.get(shown.ls);
      if (before && after && (before.flagged !== after.flagged || before.max_score !== after.max_score)) state.reloadShown = true;
    }
    state.summaries = fresh;
    const latest = latestLS();
    if (latest !== null && (state.followLatestLS || state.wantedLS === null)) state.wantedLS = latest;
    pumpLoads();
    scheduleRender({ header: true, timeline: true });
  }

  // Resync after (re)connecting: events may have been missed while the stream was down.
  let resyncRunning = null;
  let resyncAgain = false;
  async function resync() {
    if (resyncRunning) { resyncAgain = true; return resyncRunning; }
    resyncRunning = (async () => {
      try {
        do {
          resyncAgain = false;
          const before = state.run;
          await refreshRuns();
          if (state.run !== null && state.run === before) await refreshSummaries();
        } while (resyncAgain);
      } catch (error) {
        el.detector.textContent = `server unreachable: ${error.message}`;
      } finally {
        resyncRunning = null;
      }
    })();
    return resyncRunning;
  }

  let summaryTimer = null;
  function scheduleSummaryResync() {
    state.summariesStale = true;
    if (summaryTimer !== null) return;
    summaryTimer = setTimeout(() => {
      summaryTimer = null;
      if (state.summariesStale) refreshSummaries().catch(() => { state.summariesStale = true; });
    }, SUMMARY_RESYNC_MS);
  }

  let runsTimer = null;
  let runsTimerDue = Infinity;
  function scheduleRunsRefresh(delay) {
    const due = performance.now() + delay;
    if (runsTimer !== null) {
      if (due >= runsTimerDue) return;
      clearTimeout(runsTimer);
    }
    runsTimerDue = due;
    runsTimer = setTimeout(() => {
      runsTimer = null;
      runsTimerDue = Infinity;
      refreshRuns().catch(() => scheduleRunsRefresh(RUNS_REFRESH_MS));
    }, delay);
  }

  // ---------- Server-Sent Events ----------
  function onLumisection(event) {
    let data;
    try { data = JSON.parse(event.data); } catch (_) { return; }
    if (typeof data.run !== "number" || typeof data.ls !== "number") return;
    if (!state.runs.some((r) => r.run === data.run)) {
      scheduleRunsRefresh(200);
      return;
    }
    scheduleRunsRefresh(RUNS_REFRESH_MS);
    if (data.run !== state.run) return;
    const previous = state.summaries.get(data.ls);
    state.summaries.set(data.ls, {
      ...(previous || { total_occupancy: undefined, window_complete: undefined, missing_ls: [] }),
      ls: data.ls,
      num_events: data.num_events,
      flagged: data.flagged,
      max_score: data.max_score,
    });
    scheduleSummaryResync();
    if (state.shown && state.shown.run === data.run && state.shown.ls === data.ls) {
      state.reloadShown = true;
      pumpLoads();
    }
    if (state.followLatestLS) wantLS(latestLS());
    scheduleRender({ header: true, timeline: true });
  }

  let source = null;
  let reconnectDelay = 1000;
  function connectEvents() {
    source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      reconnectDelay = 1000;
      setStatus("live");
      resync();
    });
    source.addEventListener("lumisection", onLumisection);
    source.addEventListener("error", () => {
      setStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an HTTP error reply): retry ourselves with backoff.
        source.close();
        setTimeout(connectEvents, reconnectDelay);
        reconnectDelay = Math.min(RECONNECT_MAX_MS, reconnectDelay * 2);
      }
    });
  }

  // ---------- controls ----------
  el.runSelect.addEventListener("change", () => {
    const run = Number(el.runSelect.value);
    const newest = state.runs.length > 0 ? state.runs[0].run : null;
    switchRun(run, { followNewest: run === newest }).catch(() => scheduleSummaryResync());
  });
  el.lsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const ls = Number(el.lsInput.value);
    if (!Number.isInteger(ls)) return;
    if (state.summaries.has(ls)) {
      el.lsInput.setCustomValidity("");
      pickLS(ls);
    } else {
      el.lsInput.setCustomValidity(`LS ${ls} is not stored for run ${state.run}`);
      el.lsInput.reportValidity();
    }
  });
  el.lsInput.addEventListener("input", () => el.lsInput.setCustomValidity(""));
  el.latest.addEventListener("click", followLatest);
  document.addEventListener("keydown", (event) => {
    const tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (event.key === "End") { followLatest(); return; }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const list = sortedLS();
    const current = state.wantedLS;
    if (list.length === 0 || current === null) return;
    const index = list.indexOf(current);
    const next = event.key === "ArrowLeft" ? list[Math.max(0, index - 1)] : list[Math.min(list.length - 1, index + 1)];
    if (next !== undefined) { pickLS(next); event.preventDefault(); }
  });
  new ResizeObserver(() => scheduleRender({ maps: true, timeline: true })).observe(document.body);

  // ---------- start ----------
  async function start() {
    let health = {};
    try {
      health = await getJSON("/healthz");
    } catch (error) {
      el.detector.textContent = `server unreachable: ${error.message}`;
    }
    const subdetector = typeof health.subdetector === "string" ? health.subdetector : "";
    state.depths = Number.isInteger(health.depths) && health.depths > 0 ? health.depths : subdetector === "hb" ? 4 : 7;
    const threshold = health.threshold ?? health.flag_threshold;
    if (typeof threshold === "number" && threshold > 0) state.threshold = threshold;
    if (health.status) {
      el.detector.textContent = `${subdetector.toUpperCase() || "HCAL"} · ${state.depths} depths · model ${health.model || "?"}`;
    }
    buildGrid(state.depths);
    scheduleRender({ maps: true, timeline: true, header: true, table: true });
    // `?transport=poll` re-reads the runs and summaries every POLL_INTERVAL_MS instead of
    // holding an event stream: for proxies that buffer text/event-stream, and for headless
    // Chromium's --virtual-time-budget, whose virtual clock stops while any request (such as
    // an open event stream) is pending.
    if (new URLSearchParams(location.search).get("transport") === "poll") {
      setStatus("polling");
      setInterval(resync, POLL_INTERVAL_MS);
    } else {
      connectEvents();
    }
    resync();
  }

  start();
})();
