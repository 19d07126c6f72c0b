// vaelab serve: the pages' behaviour. Plain JavaScript, no library, nothing
// fetched from another origin. Curves are drawn as SVG from the JSON the
// server sends (already thinned to at most 1,000 points per series); pages
// poll the experiment's state every 2 s and redraw only when it moved.
"use strict";

const POLL_MS = 2000;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const SVGNS = "http://www.w3.org/2000/svg";

function $(id) { return document.getElementById(id); }

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin" });
  if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
  return r.json();
}

function q(params) { return new URLSearchParams(params).toString(); }

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

// smooth is TensorBoard's debiased exponential moving average.
function smooth(y, w) {
  if (!w) return y.slice();
  const out = new Array(y.length);
  let last = 0, n = 0;
  for (let i = 0; i < y.length; i++) {
    last = last * w + (1 - w) * y[i];
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

function ticks(lo, hi, n) {
  const span = hi - lo || 1, step0 = span / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => span / s <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Math.round(v * 1000) / 1000);
}

// draw renders lines ({label, color, x, y, lo, hi}) into the element box.
function draw(box, lines, opts) {
  box.textContent = "";
  const W = 1000, H = 380, L = 64, R = 12, T = 10, B = 34;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" }, box);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, points = 0;
  const ok = v => Number.isFinite(v) && (!opts.log || v > 0);
  const prepared = lines.map(l => {
    const y = smooth(l.y, opts.smooth);
    let lo = l.lo && smooth(l.lo, opts.smooth), hi = l.hi && smooth(l.hi, opts.smooth);
    const p = { ...l, y, lo, hi };
    for (let i = 0; i < l.x.length; i++) {
      if (!ok(y[i])) continue;
      x0 = Math.min(x0, l.x[i]); x1 = Math.max(x1, l.x[i]);
      for (const v of [y[i], lo ? lo[i] : y[i], hi ? hi[i] : y[i]]) if (ok(v)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
      points++;
    }
    return p;
  });
  box.dataset.points = String(points);
  box.dataset.maxStep = points ? String(x1) : "0";
  if (!points) {
    el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, svg).textContent = "no points yet";
    return;
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += Math.abs(y1) * 0.05 + 1e-9; y0 -= Math.abs(y0) * 0.05 + 1e-9; }
  const ty = v => opts.log ? Math.log10(v) : v;
  const Y0 = ty(y0), Y1 = ty(y1);
  const sx = v => L + (v - x0) / (x1 - x0) * (W - L - R);
  const sy = v => T + (1 - (ty(v) - Y0) / (Y1 - Y0)) * (H - T - B);
  const axes = el("g", {}, svg);
  for (const v of ticks(x0, x1, 8)) {
    el("line", { x1: sx(v), x2: sx(v), y1: T, y2: H - B, stroke: "#eee" }, axes);
    el("text", { x: sx(v), y: H - B + 16, "text-anchor": "middle" }, axes).textContent = fmt(v);
  }
  const yt = opts.log ? ticks(Y0, Y1, 6).map(v => Math.pow(10, v)) : ticks(y0, y1, 6);
  for (const v of yt) {
    el("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), stroke: "#eee" }, axes);
    el("text", { x: L - 6, y: sy(v) + 4, "text-anchor": "end" }, axes).textContent = fmt(v);
  }
  el("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle" }, axes).textContent = "step";
  for (const l of prepared) {
    if (l.lo && l.hi) {
      const up = [], down = [];
      for (let i = 0; i < l.x.length; i++) {
        if (ok(l.lo[i]) && ok(l.hi[i])) { up.push(`${sx(l.x[i])},${sy(l.hi[i])}`); down.push(`${sx(l.x[i])},${sy(l.lo[i])}`); }
      }
      if (up.length > 1) el("polygon", { points: up.concat(down.reverse()).join(" "), fill: l.color, "fill-opacity": 0.18, stroke: "none" }, svg);
    }
    let d = "", pen = "M";
    for (let i = 0; i < l.x.length; i++) {
      if (!ok(l.y[i])) { pen = "M"; continue; }
      d += `${pen}${sx(l.x[i]).toFixed(1)},${sy(l.y[i]).toFixed(1)}`;
      pen = "L";
    }
    el("path", { d, fill: "none", stroke: l.color, "stroke-width": l.thin ? 1 : 1.8, "stroke-opacity": l.thin ? 0.7 : 1 }, svg);
  }
  const legend = document.createElement("div");
  legend.className = "legend";
  const seen = new Set();
  for (const l of lines) {
    if (seen.has(l.label)) continue;
    seen.add(l.label);
    const s = document.createElement("span"), i = document.createElement("i");
    i.style.background = l.color;
    s.append(i, l.label);
    legend.append(s);
  }
  box.append(legend);
}

function chartOptions() {
  const sm = $("smooth"), lg = $("log");
  return { smooth: sm ? Number(sm.value) : 0, log: lg ? lg.checked : false };
}

function bindControls(redraw, reload) {
  const sm = $("smooth");
  if (sm) sm.addEventListener("input", () => { $("smooth-text").textContent = sm.value; redraw(); });
  for (const id of ["log"]) if ($(id)) $(id).addEventListener("change", redraw);
  for (const id of ["key", "raw"]) if ($(id)) $(id).addEventListener("change", reload);
}

function setLive(text, bad) {
  const l = $("live");
  if (l) { l.textContent = text; l.classList.toggle("error", !!bad); }
}

// poll calls onChange whenever the experiment's state version moves.
function poll(name, onChange) {
  let version = null;
  async function tick() {
    try {
      const st = await getJSON("/api/state?" + q({ name }));
      const p = $("progress");
      if (p) { p.value = st.progress; $("progress-text").textContent = st.progress + " %"; }
      setLive(st.running ? `live: ${st.running} running` : "live: idle");
      if (version !== null && st.version !== version) await onChange();
      version = st.version;
    } catch (e) {
      setLive("server unreachable: " + e.message, true);
    }
    setTimeout(tick, POLL_MS);
  }
  tick();
}

function experimentPage(body) {
  const name = body.dataset.name;
  let data = null;
  const chosen = () => [...document.querySelectorAll(".plot-group:checked")].map(c => c.value);
  let fallback = body.dataset.groups;
  function lines() {
    const out = [], raw = $("raw").checked;
    data.groups.forEach((g, i) => {
      const color = COLORS[i % COLORS.length];
      if (raw && g.raw) {
        for (const r of g.raw) out.push({ label: g.label, color, x: r.x, y: r.y, thin: true });
      } else {
        const b = g.band;
        out.push({ label: `${g.label} (${g.runs})`, color, x: b.x, y: b.mean, lo: b.mean.map((m, j) => m - b.std[j]), hi: b.mean.map((m, j) => m + b.std[j]) });
      }
    });
    return out;
  }
  const redraw = () => { if (data) draw($("chart"), lines(), chartOptions()); };
  async function reload() {
    const groups = chosen();
    const params = { name, key: $("key").value, raw: $("raw").checked ? "1" : "0", groups: groups.length ? groups.join(",") : fallback };
    try {
      data = await getJSON("/api/curves?" + q(params));
      redraw();
    } catch (e) {
      $("chart").textContent = "curves: " + e.message;
    }
  }
  for (const c of document.querySelectorAll(".plot-group")) c.addEventListener("change", () => { fallback = ""; reload(); });
  bindControls(redraw, reload);
  reload();
  poll(name, reload);
}

function runPage(body) {
  const name = body.dataset.name, run = body.dataset.run;
  let data = null;
  const redraw = () => { if (data) draw($("chart"), [{ label: data.key, color: COLORS[0], x: data.x, y: data.y }], chartOptions()); };
  async function reload() {
    try {
      data = await getJSON(`/api/run-curves/${run}?` + q({ name, key: $("key").value }));
      redraw();
    } catch (e) {
      $("chart").textContent = "curves: " + e.message;
    }
  }
  bindControls(redraw, reload);
  reload();
  poll(name, reload);
}

function facesPage(body) {
  const name = body.dataset.name, runs = body.dataset.runs;
  const slider = $("step");
  let steps = [], byRun = [];
  function show() {
    const at = steps[Number(slider.value)];
    $("step-text").textContent = at === undefined ? "no grids yet" : `step ${at}`;
    for (const r of byRun) {
      const fig = document.querySelector(`.face[data-run="${r.id}"]`);
      if (!fig) continue;
      let pick = null;
      for (const g of r.frames) if (g.step <= at) pick = g;
      const img = fig.querySelector("img"), label = fig.querySelector(".at");
      if (pick) {
        if (img.getAttribute("src") !== pick.url) img.src = pick.url;
        label.textContent = pick.final ? `evaluation (${pick.kind})` : `epoch ${pick.epoch}, step ${pick.step}`;
      } else {
        img.removeAttribute("src");
        label.textContent = "no grid yet";
      }
    }
  }
  async function reload() {
    try {
      const data = await getJSON("/api/grids?" + q({ name, runs }));
      const atEnd = Number(slider.value) >= steps.length - 1;
      // Training's grids share one layout; a run trained before they were
      // stored shows its evaluation's reconstructions instead.
      byRun = data.map(r => {
        const training = r.grids.filter(g => !g.final);
        return { id: r.id, frames: training.length ? training : r.grids.filter(g => g.kind === "reconstructions") };
      });
      steps = [...new Set(byRun.flatMap(r => r.frames.map(g => g.step)))].sort((a, b) => a - b);
      slider.max = String(Math.max(0, steps.length - 1));
      if (atEnd) slider.value = slider.max;
      show();
    } catch (e) {
      $("step-text").textContent = "grids: " + e.message;
    }
  }
  slider.addEventListener("input", show);
  reload();
  poll(name, reload);
}

function explorePage(body) {
  const name = body.dataset.name, run = body.dataset.run, img = $("decoded");
  function url() {
    const mode = document.querySelector("input[name=mode]:checked").value;
    const p = { name, mode, a: $("a").value, steps: $("steps").value };
    if (mode === "interpolate") p.b = $("b").value; else p.dim = $("dim").value;
    return `/api/decode/${run}?` + q(p);
  }
  img.addEventListener("load", () => { $("decode-error").textContent = ""; });
  img.addEventListener("error", async () => {
    try {
      const r = await fetch(img.src);
      $("decode-error").textContent = r.ok ? "" : (await r.text()).trim();
    } catch (e) {
      $("decode-error").textContent = e.message;
    }
  });
  for (const i of document.querySelectorAll(".controls input")) i.addEventListener("change", () => { img.src = url(); });
}

document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;
  const page = { experiment: experimentPage, run: runPage, faces: facesPage, explore: explorePage }[body.dataset.page];
  if (page) page(body);
});
