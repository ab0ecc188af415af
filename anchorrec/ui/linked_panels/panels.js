// The linked layout panels of Embedding spaces and Positional collapse (see
// anchorrec/ui/linked_panels.py). One binary payload: a JSON header, then typed arrays. Points
// are drawn by WebGL (one shared context renders every panel and copies it to the panel's
// canvas; a plain 2-D canvas where WebGL is missing). Above the points, each panel has a
// selection layer (selected points, rings of matches) and a top layer (hover, drag outline), so
// a selection redraws only its layer. Zoom (wheel, + and −) and pan (the Pan mode) move every
// panel alike; the filter hides the items of the levels unticked in every panel. A finished
// selection goes to the server as the state value "selection" = {items, gesture, space, seq}.

const PAD = 8;
const GRID_HEIGHT = 260;
const WIDE_HEIGHT = 400;
const RADIUS = 2.6;
const HIT = 8; // px: how near a click or hover must be to a point
const PLAIN = "#4C78A8";
const MAX_ZOOM = 200;
const MAGIC = "ALP1";
const KEEP = 4; // layouts kept per page
const CACHE = (window.__anchorrecLayouts = window.__anchorrecLayouts || new Map());
const TYPES = { u8: Uint8Array, u16: Uint16Array, i32: Int32Array, f32: Float32Array };

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

function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

// ---------------------------------------------------------------------------- the payload
function parse(bytes) {
  const buf = bytes instanceof ArrayBuffer ? bytes : bytes.slice().buffer; // aligned copy
  const head = new Uint8Array(buf, 0, 8);
  if (String.fromCharCode(...head.subarray(0, 4)) !== MAGIC) throw new Error("not a panel payload");
  const size = new DataView(buf).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, size)));
  const base = 8 + size;
  const arrays = {};
  for (const [name, [at, code, count]] of Object.entries(header.sections)) {
    arrays[name] = new TYPES[code](buf, base + at, count);
  }
  return { header, arrays };
}

function texts(bytes, offsets) {
  const decoder = new TextDecoder();
  return (r) => (offsets ? decoder.decode(bytes.subarray(offsets[r], offsets[r + 1])) : "");
}

// ---------------------------------------------------------------------------- WebGL
const VERTEX = `
attribute vec2 a_xy; attribute vec4 a_rgba;
uniform vec3 u_cam; uniform vec2 u_size; uniform float u_pad; uniform float u_point;
varying vec4 v_rgba;
void main() {
  vec2 s = (a_xy - u_cam.xy) * u_cam.z + 0.5;
  vec2 px = u_pad + s * (u_size - 2.0 * u_pad);
  gl_Position = vec4(px.x / u_size.x * 2.0 - 1.0, 1.0 - px.y / u_size.y * 2.0, 0.0, 1.0);
  gl_PointSize = u_point;
  v_rgba = a_rgba;
}`;
const FRAGMENT = `
precision mediump float; varying vec4 v_rgba; uniform float u_round;
void main() {
  if (v_rgba.a <= 0.0) discard;
  if (u_round > 0.5 && length(gl_PointCoord - 0.5) > 0.5) discard;
  gl_FragColor = v_rgba;
}`;

function makeGL() {
  const canvas = document.createElement("canvas");
  const gl = canvas.getContext("webgl", { premultipliedAlpha: false, antialias: true });
  if (!gl) return null;
  const shader = (kind, src) => {
    const s = gl.createShader(kind);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    return s;
  };
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) return null;
  gl.useProgram(prog);
  const at = (n) => gl.getUniformLocation(prog, n);
  return {
    canvas, gl,
    xy: gl.getAttribLocation(prog, "a_xy"), rgba: gl.getAttribLocation(prog, "a_rgba"),
    cam: at("u_cam"), size: at("u_size"), pad: at("u_pad"), point: at("u_point"), round: at("u_round"),
  };
}

function createView(root, setStateValue) {
  const view = {
    layout: null, look: null, key: "", selected: new Set(), found: new Set(), hover: null,
    mode: "box", seq: 0, panels: [], drag: null, signature: "", cam: { x: 0.5, y: 0.5, k: 1 },
    hidden: null, filterField: -1, shownLevels: null, gl: undefined, frame: 0,
  };
  const bar = el("div", "lp-bar");
  const box = el("button", "", "Box");
  const lasso = el("button", "", "Lasso");
  const pan = el("button", "", "Pan");
  const zoomIn = el("button", "", "+");
  const zoomOut = el("button", "", "−");
  const reset = el("button", "", "Reset view");
  const clear = el("button", "", "Clear selection");
  const count = el("span", "lp-count");
  box.title = "Drag in a panel to select the items inside a rectangle";
  lasso.title = "Drag in a panel to select the items inside a free-hand outline";
  pan.title = "Drag in a panel to move every panel's view";
  zoomIn.title = "Zoom in every panel (or turn the mouse wheel over a panel)";
  zoomOut.title = "Zoom out every panel";
  reset.title = "Show every panel whole again";
  clear.title = "Deselect every item (or double-click a panel)";
  zoomIn.setAttribute("aria-label", "Zoom in");
  zoomOut.setAttribute("aria-label", "Zoom out");
  bar.append(el("span", "", "Drag"), box, lasso, pan, zoomIn, zoomOut, reset, clear, count);
  const filterBar = el("div", "lp-filter");
  const legend = el("div", "lp-legend");
  const sample = el("div", "lp-caption lp-sample");
  const grid = el("div", "lp-grid");
  const tip = el("div", "lp-tip");
  root.append(bar, filterBar, legend, sample, grid, tip);

  function setMode(mode) {
    view.mode = mode;
    box.setAttribute("aria-pressed", String(mode === "box"));
    lasso.setAttribute("aria-pressed", String(mode === "lasso"));
    pan.setAttribute("aria-pressed", String(mode === "pan"));
  }
  setMode("box");
  box.onclick = () => setMode("box");
  lasso.onclick = () => setMode("lasso");
  pan.onclick = () => setMode("pan");
  zoomIn.onclick = () => zoomAt(0.5, 0.5, 1.5);
  zoomOut.onclick = () => zoomAt(0.5, 0.5, 1 / 1.5);
  reset.onclick = () => { view.cam = { x: 0.5, y: 0.5, k: 1 }; redraw(); };
  clear.onclick = () => select([], "clear", "");

  function showCount() {
    const n = view.selected.size;
    clear.disabled = n === 0;
    count.textContent = n === 0
      ? "Click a point to open it; double-click a panel to deselect; the wheel zooms."
      : `${n} item${n === 1 ? "" : "s"} selected`;
    root.dataset.selected = String(n);
  }

  function select(ids, gesture, space) {
    view.selected = new Set(ids);
    view.seq += 1;
    drawSelections();
    setStateValue("selection", { items: ids, gesture, space, seq: view.seq });
  }

  // ------------------------------------------------------------------------ camera
  function showCamera() {
    const c = view.cam;
    root.dataset.zoom = c.k.toFixed(4);
    root.dataset.centre = `${c.x.toFixed(4)},${c.y.toFixed(4)}`;
    reset.disabled = c.k === 1 && c.x === 0.5 && c.y === 0.5;
  }

  // the camera maps a layout position u in [0, 1] to s = (u - centre) * k + 0.5 of the plot area
  function zoomAt(sx, sy, factor) {
    const c = view.cam;
    const k = Math.min(MAX_ZOOM, Math.max(1, c.k * factor));
    const ux = c.x + (sx - 0.5) / c.k;
    const uy = c.y + (sy - 0.5) / c.k;
    view.cam = { x: ux - (sx - 0.5) / k, y: uy - (sy - 0.5) / k, k };
    if (k === 1) view.cam = { x: 0.5, y: 0.5, k: 1 };
    redraw();
  }

  function screen(p, k) {
    const c = view.cam;
    const sx = (p.x[k] / 65535 - c.x) * c.k + 0.5;
    const sy = (p.y[k] / 65535 - c.y) * c.k + 0.5;
    return [PAD + sx * (p.w - 2 * PAD), PAD + sy * (p.h - 2 * PAD)];
  }

  function plotFraction(p, x, y) {
    return [(x - PAD) / (p.w - 2 * PAD), (y - PAD) / (p.h - 2 * PAD)];
  }

  // ------------------------------------------------------------------------ colours, filter
  function colourRGBA(p, k, row) {
    const look = view.look;
    let hex = PLAIN;
    if (p.tags) hex = p.tagColours[p.tags[k]];
    else if (look.colour.kind !== "none") hex = look.colour.palette[view.colourIndex[row]];
    return hex;
  }

  function isHidden(row) {
    return view.hidden !== null && view.hidden[row] === 1;
  }

  function applyFilter() {
    const f = view.filterField;
    const layout = view.layout;
    if (f < 0 || !view.shownLevels) view.hidden = null;
    else {
      const codes = layout.arrays[`f${f}`];
      const hidden = new Uint8Array(codes.length);
      for (let r = 0; r < codes.length; r++) hidden[r] = view.shownLevels.has(codes[r]) ? 0 : 1;
      view.hidden = hidden;
    }
    for (const p of view.panels) paint(p);
    redraw();
  }

  function drawFilter() {
    const fields = view.layout.header.fields || [];
    filterBar.replaceChildren();
    if (!fields.length) return;
    const pick = el("select");
    pick.setAttribute("aria-label", "Show only");
    pick.append(new Option("every item", "-1"));
    fields.forEach((f, i) => pick.append(new Option(f.name, String(i))));
    pick.value = String(view.filterField);
    pick.onchange = () => {
      view.filterField = Number(pick.value);
      view.shownLevels = view.filterField < 0 ? null
        : new Set(fields[view.filterField].levels.map((_, i) => i));
      drawFilter();
      applyFilter();
    };
    filterBar.append(el("span", "", "Show"), pick);
    if (view.filterField >= 0) {
      fields[view.filterField].levels.forEach((name, i) => {
        const b = el("button", "lp-chip", name);
        b.setAttribute("aria-pressed", String(view.shownLevels.has(i)));
        b.title = `Show or hide the items whose ${fields[view.filterField].name} is ${name}`;
        b.onclick = () => {
          if (view.shownLevels.has(i)) view.shownLevels.delete(i); else view.shownLevels.add(i);
          b.setAttribute("aria-pressed", String(view.shownLevels.has(i)));
          applyFilter();
        };
        filterBar.append(b);
      });
    }
  }

  // per-point colours with the filter's alpha (0: hidden), for the GPU and the 2-D fallback
  function paint(p) {
    const n = p.rows.length;
    const rgba = new Uint8Array(4 * n);
    const cache = new Map();
    let visible = 0;
    for (let k = 0; k < n; k++) {
      const hex = colourRGBA(p, k, p.rows[k]);
      let c = cache.get(hex);
      if (!c) { c = rgb(hex); cache.set(hex, c); }
      rgba[4 * k] = c[0]; rgba[4 * k + 1] = c[1]; rgba[4 * k + 2] = c[2];
      const hide = isHidden(p.rows[k]);
      rgba[4 * k + 3] = hide ? 0 : 191;
      if (!hide) visible++;
    }
    p.rgba = rgba;
    p.top.dataset.visible = String(visible);
    const g = view.gl;
    if (g) {
      if (!p.rgbaBuf) p.rgbaBuf = g.gl.createBuffer();
      g.gl.bindBuffer(g.gl.ARRAY_BUFFER, p.rgbaBuf);
      g.gl.bufferData(g.gl.ARRAY_BUFFER, rgba, g.gl.DYNAMIC_DRAW);
    }
  }

  // ------------------------------------------------------------------------ panels
  function buildPanel(spec) {
    const box_ = el("div", "lp-panel" + (spec.wide ? " lp-wide" : ""));
    if (spec.wide) box_.append(el("div", "lp-heading", spec.heading || ""));
    const title = el("div", "lp-title", spec.title);
    const stage = el("div", "lp-stage");
    const base = el("canvas", "lp-base");
    const veil = el("div", "lp-veil");
    const sel = el("canvas", "lp-sel");
    const top = el("canvas", "lp-top");
    stage.append(base, veil, sel, top);
    const caption = el("div", "lp-caption", spec.caption);
    const legendBox = el("div", "lp-legend");
    box_.append(title, stage, legendBox, caption);
    grid.append(box_);
    const p = { box: box_, title, stage, base, veil, sel, top, caption, legendBox };
    wire(p);
    return p;
  }

  function fill(p, spec, i) {
    const a = view.layout.arrays;
    p.spec = spec;
    p.space = spec.space;
    p.title.textContent = p.title.title = spec.title;
    p.caption.textContent = spec.caption;
    p.x = a[`p${i}.x`];
    p.y = a[`p${i}.y`];
    p.rows = a[`p${i}.rows`];
    p.tags = a[`p${i}.tags`] || null;
    p.links = a[`p${i}.links`] || null;
    p.tagColours = spec.tag_colours || [];
    p.top.dataset.space = spec.space;
    p.top.dataset.points = String(p.rows.length);
    p.byRow = new Map();
    for (let k = 0; k < p.rows.length; k++) {
      const r = p.rows[k];
      const list = p.byRow.get(r);
      if (list) list.push(k); else p.byRow.set(r, [k]);
    }
    const g = view.gl;
    if (g) {
      const xy = new Uint16Array(2 * p.rows.length);
      for (let k = 0; k < p.rows.length; k++) { xy[2 * k] = p.x[k]; xy[2 * k + 1] = p.y[k]; }
      if (!p.xyBuf) p.xyBuf = g.gl.createBuffer();
      g.gl.bindBuffer(g.gl.ARRAY_BUFFER, p.xyBuf);
      g.gl.bufferData(g.gl.ARRAY_BUFFER, xy, g.gl.STATIC_DRAW);
      if (p.links && p.links.length) {
        if (!p.linkBuf) p.linkBuf = g.gl.createBuffer();
        g.gl.bindBuffer(g.gl.ELEMENT_ARRAY_BUFFER, p.linkBuf);
        const idx = new Uint16Array(p.links.length);
        if (p.rows.length < 65536) { idx.set(p.links); p.linkIdx = idx; } else p.linkIdx = null;
        if (p.linkIdx) g.gl.bufferData(g.gl.ELEMENT_ARRAY_BUFFER, p.linkIdx, g.gl.STATIC_DRAW);
      }
    }
    p.legendBox.replaceChildren();
    if (p.tags) {
      spec.tag_names.forEach((name, j) => {
        const item = el("span");
        const sw = el("span", "lp-swatch");
        sw.style.background = p.tagColours[j];
        item.append(sw, document.createTextNode(name.replace(/_/g, " ")));
        p.legendBox.append(item);
      });
    }
    p.top.point = (k) => {
      const r = p.top.getBoundingClientRect();
      const [x, y] = screen(p, k);
      return { id: view.layout.items[p.rows[k]], x: r.left + x, y: r.top + y };
    };
  }

  function drawLegend() {
    const c = view.look.colour;
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
          const items = view.layout.items;
          for (let r = 0; r < items.length; r++) {
            if (view.colourIndex[r] === i && !isHidden(r)) ids.push(items[r]);
          }
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
    if (!width || !view.layout) return;
    view.width = width;
    const most = view.look.columns || 3;
    const columns = Math.min(most, width < 640 ? 1 : width < 980 ? 2 : 3);
    grid.style.setProperty("--lp-columns", String(columns));
    const dpr = window.devicePixelRatio || 1;
    for (const p of view.panels) {
      const h = p.spec.height || (p.spec.wide ? WIDE_HEIGHT : GRID_HEIGHT);
      p.stage.style.height = `${h}px`;
      const w = p.stage.clientWidth;
      p.w = w; p.h = h; p.dpr = dpr;
      for (const c of [p.base, p.sel, p.top]) {
        c.width = Math.max(1, Math.round(w * dpr));
        c.height = Math.max(1, Math.round(h * dpr));
        c.style.width = `${w}px`;
        c.style.height = `${h}px`;
        c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
      }
    }
    redraw();
  }

  // ------------------------------------------------------------------------ drawing
  function drawBase(p) {
    if (!p.w) return;
    root.dataset.baseDraws = String(Number(root.dataset.baseDraws || 0) + 1); // tests read it
    const ctx = p.base.getContext("2d");
    const g = view.gl;
    if (g) {
      const gl = g.gl;
      const W = p.base.width;
      const H = p.base.height;
      if (g.canvas.width < W || g.canvas.height < H) {
        g.canvas.width = Math.max(g.canvas.width, W);
        g.canvas.height = Math.max(g.canvas.height, H);
      }
      gl.viewport(0, g.canvas.height - H, W, H);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
      const c = view.cam;
      gl.uniform3f(g.cam, c.x, c.y, c.k);
      gl.uniform2f(g.size, W, H);
      gl.uniform1f(g.pad, PAD * p.dpr);
      gl.bindBuffer(gl.ARRAY_BUFFER, p.xyBuf);
      gl.enableVertexAttribArray(g.xy);
      gl.vertexAttribPointer(g.xy, 2, gl.UNSIGNED_SHORT, true, 0, 0);
      if (p.linkIdx && p.linkIdx.length) { // an item's two points of a two-space layout, joined
        gl.disableVertexAttribArray(g.rgba);
        gl.vertexAttrib4f(g.rgba, 90 / 255, 90 / 255, 90 / 255, 0.45);
        gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, p.linkBuf);
        gl.drawElements(gl.LINES, p.linkIdx.length, gl.UNSIGNED_SHORT, 0);
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, p.rgbaBuf);
      gl.enableVertexAttribArray(g.rgba);
      gl.vertexAttribPointer(g.rgba, 4, gl.UNSIGNED_BYTE, true, 0, 0);
      gl.uniform1f(g.point, 2 * RADIUS * p.dpr);
      gl.uniform1f(g.round, 1);
      gl.drawArrays(gl.POINTS, 0, p.rows.length);
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, W, H);
      ctx.drawImage(g.canvas, 0, 0, W, H, 0, 0, W, H);
      ctx.restore();
      return;
    }
    ctx.clearRect(0, 0, p.w, p.h); // no WebGL: squares on a 2-D canvas
    if (p.links && p.links.length) {
      ctx.strokeStyle = "rgba(90,90,90,0.45)";
      ctx.lineWidth = 0.6;
      ctx.beginPath();
      for (let i = 0; i < p.links.length; i += 2) {
        const [ax, ay] = screen(p, p.links[i]);
        const [bx, by] = screen(p, p.links[i + 1]);
        ctx.moveTo(ax, ay);
        ctx.lineTo(bx, by);
      }
      ctx.stroke();
    }
    const d = 2 * RADIUS - 1;
    for (let k = 0; k < p.rows.length; k++) {
      const a = p.rgba[4 * k + 3];
      if (!a) continue;
      const [x, y] = screen(p, k);
      if (x < -d || y < -d || x > p.w + d || y > p.h + d) continue;
      ctx.fillStyle = `rgba(${p.rgba[4 * k]},${p.rgba[4 * k + 1]},${p.rgba[4 * k + 2]},0.75)`;
      ctx.fillRect(x - d / 2, y - d / 2, d, d);
    }
  }

  function dots(ctx, p, ks, radius) {
    ctx.beginPath();
    for (const k of ks) {
      if (isHidden(p.rows[k])) continue;
      const [x, y] = screen(p, k);
      if (x < -radius || y < -radius || x > p.w + radius || y > p.h + radius) continue;
      ctx.moveTo(x + radius, y);
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
    }
  }

  function rowsToPoints(p, ids) {
    const ks = [];
    ids.forEach((id) => {
      const r = view.rowOf.get(id);
      const list = r === undefined ? null : p.byRow.get(r);
      if (list) ks.push(...list);
    });
    return ks;
  }

  // the selection layer: only this redraws when the selection or the matches change
  function drawSelection(p) {
    if (!p.w) return;
    const ctx = p.sel.getContext("2d");
    ctx.clearRect(0, 0, p.w, p.h);
    p.veil.style.display = view.selected.size ? "block" : "none";
    if (view.selected.size) {
      const chosen = rowsToPoints(p, view.selected);
      const buckets = new Map();
      for (const k of chosen) {
        const c = `rgb(${p.rgba[4 * k]},${p.rgba[4 * k + 1]},${p.rgba[4 * k + 2]})`;
        const list = buckets.get(c);
        if (list) list.push(k); else buckets.set(c, [k]);
      }
      for (const [colour, ks] of buckets) {
        ctx.fillStyle = colour;
        dots(ctx, p, ks, RADIUS + 0.8);
        ctx.fill();
        if (chosen.length < 5000) {
          ctx.strokeStyle = "rgba(0,0,0,0.55)";
          ctx.lineWidth = 0.8;
          ctx.stroke();
        }
      }
    }
    if (view.found.size) {
      ctx.strokeStyle = view.look.ring;
      ctx.lineWidth = 2;
      dots(ctx, p, rowsToPoints(p, view.found), 6);
      ctx.stroke();
    }
  }

  function drawTop(p) {
    if (!p.w) return;
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
    if (d && d.panel === p && d.moved && view.mode !== "pan") {
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

  function drawSelections() {
    for (const p of view.panels) drawSelection(p);
    showCount();
  }

  function redraw() { // the camera or the points changed: every layer, on the next frame
    cancelAnimationFrame(view.frame);
    view.frame = requestAnimationFrame(() => {
      for (const p of view.panels) { drawBase(p); drawSelection(p); drawTop(p); }
      showCount();
      showCamera();
    });
  }

  // ------------------------------------------------------------------------ pointer
  function nearest(p, x, y) {
    let best = -1;
    let bestD = HIT * HIT;
    for (let k = 0; k < p.rows.length; k++) {
      if (isHidden(p.rows[k])) continue;
      const [px, py] = screen(p, k);
      const dx = px - x;
      const dy = py - y;
      const dd = dx * dx + dy * dy;
      if (dd <= bestD) { bestD = dd; best = k; }
    }
    return best;
  }

  function showTip(p, k, ev) {
    if (k < 0) { tip.style.display = "none"; return; }
    const L = view.layout;
    const r = p.rows[k];
    const shop = L.shopText(r);
    const own = shop ? ` · shop id ${shop}` : "";
    tip.replaceChildren(el("b", "", L.titleText(r)), el("span", "", `item ${L.items[r]}${own}`));
    const c = view.look.colour;
    if (p.tags) tip.append(el("div", "", `space: ${p.spec.tag_names[p.tags[k]].replace(/_/g, " ")}`));
    else if (c.kind === "levels") tip.append(el("div", "", `${c.name}: ${c.legend[view.colourIndex[r]]}`));
    else if (c.kind === "scale") {
      const v = view.colourValue[r];
      tip.append(el("div", "", `${c.name}: ${Number.isFinite(v) ? Number(v).toPrecision(3) : "missing"}`));
    }
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
    if (view.mode === "pan" && d.moved) return;
    const at = local(p, ev);
    if (!d.moved) {
      const k = nearest(p, at[0], at[1]);
      drawTop(p);
      if (k >= 0) select([view.layout.items[p.rows[k]]], "click", p.space);
      return;
    }
    const ids = [];
    const seen = new Set();
    const [x1, y1] = d.path[d.path.length - 1];
    const [lx, hx] = [Math.min(d.x0, x1), Math.max(d.x0, x1)];
    const [ly, hy] = [Math.min(d.y0, y1), Math.max(d.y0, y1)];
    for (let k = 0; k < p.rows.length; k++) {
      if (isHidden(p.rows[k])) continue;
      const [x, y] = screen(p, k);
      const hit = view.mode === "box"
        ? x >= lx && x <= hx && y >= ly && y <= hy
        : inside(d.path, x, y);
      const id = view.layout.items[p.rows[k]];
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
      if (ev.button !== 0 && ev.button !== 1) return;
      const [x, y] = local(p, ev);
      t.setPointerCapture(ev.pointerId);
      view.drag = { panel: p, x0: x, y0: y, path: [[x, y]], moved: false, cam: { ...view.cam } };
      if (ev.button === 1) { ev.preventDefault(); view.drag.pan = true; }
      tip.style.display = "none";
    });
    t.addEventListener("pointermove", (ev) => {
      const [x, y] = local(p, ev);
      const d = view.drag;
      if (d && d.panel === p) {
        if (Math.hypot(x - d.x0, y - d.y0) > 4) d.moved = true;
        if (view.mode === "pan" || d.pan) {
          const c = d.cam;
          view.cam = {
            x: c.x - (x - d.x0) / ((p.w - 2 * PAD) * c.k),
            y: c.y - (y - d.y0) / ((p.h - 2 * PAD) * c.k),
            k: c.k,
          };
          redraw();
          return;
        }
        d.path.push([x, y]);
        drawTop(p);
        return;
      }
      const k = nearest(p, x, y);
      setHover(k >= 0 ? p.rows[k] : null);
      showTip(p, k, ev);
    });
    t.addEventListener("pointerup", (ev) => {
      const d = view.drag;
      if (d && d.panel === p) {
        if (d.pan) { view.drag = null; return; }
        finishDrag(p, ev);
      }
    });
    t.addEventListener("pointercancel", () => { view.drag = null; drawTop(p); });
    t.addEventListener("pointerleave", () => {
      if (!view.drag) { setHover(null); tip.style.display = "none"; }
    });
    t.addEventListener("dblclick", () => { if (view.selected.size) select([], "clear", p.space); });
    t.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const [x, y] = local(p, ev);
      const [sx, sy] = plotFraction(p, x, y);
      zoomAt(sx, sy, Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)));
    }, { passive: false });
  }

  // ------------------------------------------------------------------------ updates
  function takeLayout(header, arrays) {
    if (header.layout) {
      const own = {};
      for (const [name, a] of Object.entries(arrays)) own[name] = a; // views of a private copy
      const L = {
        key: header.key, header: header.layout, arrays: own, items: own.items,
        titleText: texts(own.title, own.title_at), shopText: texts(own.shop, own.shop_at),
      };
      CACHE.delete(header.key);
      CACHE.set(header.key, L);
      while (CACHE.size > KEEP) CACHE.delete(CACHE.keys().next().value);
      return L;
    }
    return CACHE.get(header.key) || null;
  }

  function update(bytes) {
    const { header, arrays } = parse(bytes);
    const L = takeLayout(header, arrays);
    if (!L) { // a page this browser holds no copy of: ask for it once
      if (view.asked !== header.key) { view.asked = header.key; setStateValue("need", header.key); }
      return;
    }
    const newLayout = L !== view.layout;
    const lookSig = JSON.stringify(header.look);
    const newLook = newLayout || lookSig !== view.lookSig
      || arrays.colour !== undefined && !sameArray(arrays.colour, view.colourIndex);
    view.look = header.look;
    view.lookSig = lookSig;
    view.colourIndex = arrays.colour || new Uint16Array(0);
    view.colourValue = arrays.colour_value || new Float32Array(0);
    view.selected = new Set(arrays.selected || []);
    view.found = new Set(arrays.found || []);
    if (newLayout) {
      view.layout = L;
      view.rowOf = new Map();
      L.items.forEach((id, r) => view.rowOf.set(id, r));
      if (view.gl === undefined) view.gl = makeGL();
      root.dataset.renderer = view.gl ? "webgl" : "canvas";
      const panels = L.header.panels;
      const signature = panels.map((s) => `${s.space}:${s.wide}`).join("|");
      if (signature !== view.signature) {
        grid.replaceChildren();
        view.panels = panels.map((spec) => buildPanel(spec));
        view.signature = signature;
        view.filterField = -1;
        view.shownLevels = null;
      }
      view.cam = { x: 0.5, y: 0.5, k: 1 }; // another layout: the whole of it
      const fields = L.header.fields || [];
      if (view.filterField >= fields.length) { view.filterField = -1; view.shownLevels = null; }
      panels.forEach((spec, i) => fill(view.panels[i], spec, i));
      root.dataset.layout = L.key;
      const from = L.header.sampled_from || 0;
      sample.textContent = from
        ? `Drawing ${L.items.length.toLocaleString()} of ${from.toLocaleString()} items, a ` +
          "stratified sample (every category in proportion; the same items in every panel)."
        : "";
      drawFilter();
      const f = view.filterField;
      view.hidden = null;
      if (f >= 0) {
        const codes = L.arrays[`f${f}`];
        view.hidden = new Uint8Array(codes.length);
        for (let r = 0; r < codes.length; r++) view.hidden[r] = view.shownLevels.has(codes[r]) ? 0 : 1;
      }
    }
    if (newLook) {
      for (const p of view.panels) paint(p);
      drawLegend();
    }
    if (newLayout || !view.panels.every((p) => p.w)) layout();
    else if (newLook) redraw();
    else drawSelections(); // only the selection or the matches changed
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  }

  function sameArray(a, b) {
    if (!b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  let pending = 0;
  const observer = new ResizeObserver(() => { // a new width only: the height is ours
    if (root.clientWidth === view.width) return;
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
