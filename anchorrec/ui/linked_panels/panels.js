// The linked layout panels of the Embedding spaces page (see anchorrec/ui/linked_panels.py).
// One payload, one canvas pair per panel (points below, hover and drag above). Hover, click,
// box and lasso happen here and are drawn in every panel at once; a finished selection is sent
// to the server as the state value "selection" = {items, gesture, space, seq}.

const SCALE = 10000;
const PAD = 8;
const GRID_HEIGHT = 260;
const WIDE_HEIGHT = 400;
const RADIUS = 2.6;
const HIT = 8; // px: how near a click or hover must be to a point
const PLAIN = "#4C78A8";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function inside(poly, x, y) {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function createView(root, setStateValue) {
  const view = {
    data: null, selected: new Set(), found: new Set(), hover: null, mode: "box", seq: 0,
    panels: [], drag: null, signature: "",
  };
  const bar = el("div", "lp-bar");
  const box = el("button", "", "Box");
  const lasso = el("button", "", "Lasso");
  const clear = el("button", "", "Clear selection");
  const count = el("span", "lp-count");
  box.title = "Drag in a panel to select the items inside a rectangle";
  lasso.title = "Drag in a panel to select the items inside a free-hand outline";
  clear.title = "Deselect every item (or double-click a panel)";
  bar.append(el("span", "", "Drag selects by"), box, lasso, clear, count);
  const legend = el("div", "lp-legend");
  const grid = el("div", "lp-grid");
  const tip = el("div", "lp-tip");
  root.append(bar, legend, grid, tip);

  function setMode(mode) {
    view.mode = mode;
    box.setAttribute("aria-pressed", String(mode === "box"));
    lasso.setAttribute("aria-pressed", String(mode === "lasso"));
  }
  setMode("box");
  box.onclick = () => setMode("box");
  lasso.onclick = () => setMode("lasso");
  clear.onclick = () => select([], "clear", "");

  function showCount() {
    const n = view.selected.size;
    clear.disabled = n === 0;
    count.textContent = n === 0
      ? "Click a point to open it; double-click a panel to deselect."
      : `${n} item${n === 1 ? "" : "s"} selected`;
    root.dataset.selected = String(n);
  }

  function select(ids, gesture, space) {
    view.selected = new Set(ids);
    view.seq += 1;
    drawAll();
    setStateValue("selection", { items: ids, gesture, space, seq: view.seq });
  }

  function colourOf(p, k) {
    const d = view.data;
    if (p.tags) return p.tagColours[p.tags[k]];
    const c = d.colour;
    if (c.kind === "none") return PLAIN;
    return c.palette[c.index[p.rows[k]]];
  }

  function buildPanel(spec) {
    const box_ = el("div", "lp-panel" + (spec.wide ? " lp-wide" : ""));
    if (spec.wide) box_.append(el("div", "lp-heading", spec.heading || ""));
    const title = el("div", "lp-title", spec.title);
    title.title = spec.title;
    const stage = el("div", "lp-stage");
    const base = el("canvas");
    const top = el("canvas", "lp-top");
    stage.append(base, top);
    const caption = el("div", "lp-caption", spec.caption);
    const legendBox = el("div", "lp-legend");
    box_.append(title, stage, legendBox, caption);
    grid.append(box_);
    const p = { box: box_, title, stage, base, top, caption, legendBox, px: null, py: null };
    wire(p);
    return p;
  }

  function fill(p, spec) {
    p.spec = spec;
    p.space = spec.space;
    p.title.textContent = p.title.title = spec.title;
    p.caption.textContent = spec.caption;
    p.x = Int32Array.from(spec.x);
    p.y = Int32Array.from(spec.y);
    p.rows = Int32Array.from(spec.rows);
    p.tags = spec.tags ? Int32Array.from(spec.tags) : null;
    p.tagColours = spec.tag_colours || [];
    p.top.dataset.space = spec.space;
    p.top.dataset.points = String(p.rows.length);
    p.byRow = new Map();
    for (let k = 0; k < p.rows.length; k++) {
      const r = p.rows[k];
      const list = p.byRow.get(r);
      if (list) list.push(k); else p.byRow.set(r, [k]);
    }
    p.buckets = new Map();
    for (let k = 0; k < p.rows.length; k++) {
      const c = colourOf(p, k);
      const list = p.buckets.get(c);
      if (list) list.push(k); else p.buckets.set(c, [k]);
    }
    p.legendBox.replaceChildren();
    if (p.tags) {
      spec.tag_names.forEach((name, i) => {
        const item = el("span");
        const sw = el("span", "lp-swatch");
        sw.style.background = p.tagColours[i];
        item.append(sw, document.createTextNode(name.replace(/_/g, " ")));
        p.legendBox.append(item);
      });
    }
    p.top.point = (k) => {
      const r = p.top.getBoundingClientRect();
      return { id: view.data.items[p.rows[k]], x: r.left + p.px[k], y: r.top + p.py[k] };
    };
  }

  function drawLegend() {
    const c = view.data.colour;
    legend.replaceChildren();
    if (c.kind === "levels") {
      legend.append(el("span", "lp-count", `${c.name}:`));
      c.legend.forEach((name, i) => {
        const b = el("button");
        b.title = `Select every item whose ${c.name} is ${name}`;
        const sw = el("span", "lp-swatch");
        sw.style.background = c.palette[i];
        b.append(sw, document.createTextNode(name));
        b.onclick = () => {
          const ids = [];
          view.data.items.forEach((id, r) => { if (c.index[r] === i) ids.push(id); });
          select(ids, "legend", "");
        };
        legend.append(b);
      });
    } else if (c.kind === "scale") {
      const bar_ = el("span", "lp-scale");
      const steps = c.palette.slice(0, -1);
      bar_.style.background = `linear-gradient(to right, ${steps.join(", ")})`;
      const fmt = (v) => Number(v).toPrecision(3);
      legend.append(el("span", "", `${c.name}: ${fmt(c.range[0])}`), bar_, el("span", "", fmt(c.range[1])));
    }
  }

  function layout() {
    const width = root.clientWidth;
    if (!width || !view.data) return;
    const most = view.data.columns || 3;
    const columns = Math.min(most, width < 640 ? 1 : width < 980 ? 2 : 3);
    grid.style.setProperty("--lp-columns", String(columns));
    const dpr = window.devicePixelRatio || 1;
    for (const p of view.panels) {
      const h = p.spec.height || (p.spec.wide ? WIDE_HEIGHT : GRID_HEIGHT);
      p.stage.style.height = `${h}px`;
      const w = p.stage.clientWidth;
      p.w = w; p.h = h;
      for (const c of [p.base, p.top]) {
        c.width = Math.max(1, Math.round(w * dpr));
        c.height = Math.max(1, Math.round(h * dpr));
        c.style.width = `${w}px`;
        c.style.height = `${h}px`;
        c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
      }
      const n = p.rows.length;
      p.px = new Float32Array(n);
      p.py = new Float32Array(n);
      const sx = (w - 2 * PAD) / SCALE;
      const sy = (h - 2 * PAD) / SCALE;
      for (let k = 0; k < n; k++) {
        p.px[k] = PAD + p.x[k] * sx;
        p.py[k] = PAD + p.y[k] * sy;
      }
    }
    drawAll();
  }

  function dots(ctx, p, ks, radius) {
    ctx.beginPath();
    for (const k of ks) {
      ctx.moveTo(p.px[k] + radius, p.py[k]);
      ctx.arc(p.px[k], p.py[k], radius, 0, 2 * Math.PI);
    }
  }

  function drawBase(p) {
    if (!p.px) return;
    const ctx = p.base.getContext("2d");
    ctx.clearRect(0, 0, p.w, p.h);
    const any = view.selected.size > 0;
    const items = view.data.items;
    const pairs = p.spec.segments || [];
    if (pairs.length) { // an item's two points of a two-space layout, joined
      ctx.strokeStyle = "rgba(90,90,90,0.45)";
      ctx.lineWidth = 0.6;
      ctx.beginPath();
      for (const [a, b] of pairs) {
        ctx.moveTo(p.px[a], p.py[a]);
        ctx.lineTo(p.px[b], p.py[b]);
      }
      ctx.stroke();
    }
    for (const [colour, ks] of p.buckets) {
      ctx.fillStyle = colour;
      ctx.globalAlpha = any ? 0.15 : 0.75;
      dots(ctx, p, ks, RADIUS);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (any) {
      for (const [colour, ks] of p.buckets) {
        const chosen = ks.filter((k) => view.selected.has(items[p.rows[k]]));
        if (!chosen.length) continue;
        ctx.fillStyle = colour;
        dots(ctx, p, chosen, RADIUS + 0.8);
        ctx.fill();
        ctx.strokeStyle = "rgba(0,0,0,0.55)";
        ctx.lineWidth = 0.8;
        ctx.stroke();
      }
    }
    if (view.found.size) {
      const ringed = [];
      view.found.forEach((id) => {
        const r = view.rowOf.get(id);
        const ks = r === undefined ? null : p.byRow.get(r);
        if (ks) ringed.push(...ks);
      });
      ctx.strokeStyle = view.data.ring;
      ctx.lineWidth = 2;
      dots(ctx, p, ringed, 6);
      ctx.stroke();
    }
  }

  function drawTop(p) {
    if (!p.px) return;
    const ctx = p.top.getContext("2d");
    ctx.clearRect(0, 0, p.w, p.h);
    if (view.hover !== null) {
      const ks = p.byRow.get(view.hover);
      if (ks) {
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 2;
        dots(ctx, p, ks, 7);
        ctx.stroke();
      }
    }
    const d = view.drag;
    if (d && d.panel === p && d.moved) {
      ctx.strokeStyle = "#333";
      ctx.fillStyle = "rgba(80,80,80,0.12)";
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      if (view.mode === "box") {
        const [x1, y1] = d.path[d.path.length - 1];
        ctx.rect(d.x0, d.y0, x1 - d.x0, y1 - d.y0);
      } else {
        d.path.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath();
      }
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function drawAll() {
    for (const p of view.panels) { drawBase(p); drawTop(p); }
    showCount();
  }

  function nearest(p, x, y) {
    let best = -1;
    let bestD = HIT * HIT;
    for (let k = 0; k < p.rows.length; k++) {
      const dx = p.px[k] - x;
      const dy = p.py[k] - y;
      const dd = dx * dx + dy * dy;
      if (dd <= bestD) { bestD = dd; best = k; }
    }
    return best;
  }

  function showTip(p, k, ev) {
    if (k < 0) { tip.style.display = "none"; return; }
    const d = view.data;
    const r = p.rows[k];
    const own = d.shop_ids && d.shop_ids[r] ? ` · shop id ${d.shop_ids[r]}` : "";
    tip.replaceChildren(el("b", "", d.titles[r]), el("span", "", `item ${d.items[r]}${own}`));
    if (p.tags) tip.append(el("div", "", `space: ${p.spec.tag_names[p.tags[k]].replace(/_/g, " ")}`));
    else if (d.colour.kind !== "none") tip.append(el("div", "", `${d.colour.name}: ${d.colour.text[r]}`));
    const host = root.getBoundingClientRect();
    tip.style.display = "block";
    const left = Math.min(ev.clientX - host.left + 14, Math.max(0, host.width - tip.offsetWidth));
    tip.style.left = `${left}px`;
    tip.style.top = `${ev.clientY - host.top + 14}px`;
  }

  function setHover(row) {
    if (row === view.hover) return;
    view.hover = row;
    for (const p of view.panels) drawTop(p);
  }

  function finishDrag(p, ev) {
    const d = view.drag;
    view.drag = null;
    const at = local(p, ev);
    if (!d.moved) {
      const k = nearest(p, at[0], at[1]);
      drawTop(p);
      if (k >= 0) select([view.data.items[p.rows[k]]], "click", p.space);
      return;
    }
    const ids = [];
    const seen = new Set();
    const [x1, y1] = d.path[d.path.length - 1];
    const [lx, hx] = [Math.min(d.x0, x1), Math.max(d.x0, x1)];
    const [ly, hy] = [Math.min(d.y0, y1), Math.max(d.y0, y1)];
    for (let k = 0; k < p.rows.length; k++) {
      const x = p.px[k];
      const y = p.py[k];
      const hit = view.mode === "box"
        ? x >= lx && x <= hx && y >= ly && y <= hy
        : inside(d.path, x, y);
      const id = view.data.items[p.rows[k]];
      if (hit && !seen.has(id)) { seen.add(id); ids.push(id); }
    }
    drawTop(p);
    if (ids.length) select(ids, view.mode, p.space);
  }

  function local(p, ev) {
    const r = p.top.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }

  function wire(p) {
    const t = p.top;
    t.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      const [x, y] = local(p, ev);
      t.setPointerCapture(ev.pointerId);
      view.drag = { panel: p, x0: x, y0: y, path: [[x, y]], moved: false };
      tip.style.display = "none";
    });
    t.addEventListener("pointermove", (ev) => {
      const [x, y] = local(p, ev);
      const d = view.drag;
      if (d && d.panel === p) {
        d.path.push([x, y]);
        if (Math.hypot(x - d.x0, y - d.y0) > 4) d.moved = true;
        drawTop(p);
        return;
      }
      const k = nearest(p, x, y);
      setHover(k >= 0 ? p.rows[k] : null);
      showTip(p, k, ev);
    });
    t.addEventListener("pointerup", (ev) => {
      if (view.drag && view.drag.panel === p) finishDrag(p, ev);
    });
    t.addEventListener("pointercancel", () => { view.drag = null; drawTop(p); });
    t.addEventListener("pointerleave", () => {
      if (!view.drag) { setHover(null); tip.style.display = "none"; }
    });
    t.addEventListener("dblclick", () => { if (view.selected.size) select([], "clear", p.space); });
  }

  function update(data) {
    view.data = data;
    view.rowOf = new Map(data.items.map((id, r) => [id, r]));
    view.selected = new Set(data.selected);
    view.found = new Set(data.found);
    const signature = data.panels.map((s) => `${s.space}:${s.wide}`).join("|");
    if (signature !== view.signature) {
      grid.replaceChildren();
      view.panels = data.panels.map((spec) => buildPanel(spec));
      view.signature = signature;
    }
    data.panels.forEach((spec, i) => fill(view.panels[i], spec));
    drawLegend();
    layout();
  }

  let pending = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(layout);
  });
  observer.observe(root);
  return { update, destroy: () => observer.disconnect() };
}

export default function (component) {
  const { data, setStateValue, parentElement } = component;
  let root = parentElement.querySelector(".lp-root");
  if (!root) {
    root = el("div", "lp-root");
    parentElement.appendChild(root);
    root.view = createView(root, setStateValue);
  }
  if (data) root.view.update(data);
  return () => root.view.destroy();
}
