/* diffusion-sandbox web views: the animation player and the Tree of Diffusion Life view.
   Defined once per page as window.DSW; DSW.mount(element, payload) builds a view from the JSON
   written by sandbox/web (coordinates quantised to int16, base64). No network, no libraries. */
(function () {
  "use strict";
  var VERSION = 4;  // a notebook that ran an older player redefines it
  if (window.DSW && window.DSW.version === VERSION) return;
  var DSW = (window.DSW = { version: VERSION });

  // ---- helpers ------------------------------------------------------------------------------
  function bytes(b64) {
    var s = atob(b64), u = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return u;
  }
  // {b64, shape, lo, hi} -> Float32Array (flat, last axis fastest)
  function dequant(q) {
    var b = bytes(q.b64), v = new DataView(b.buffer), n = b.length >> 1, D = q.shape[q.shape.length - 1];
    var out = new Float32Array(n);
    for (var k = 0; k < n; k++) {
      var d = k % D;
      out[k] = q.lo[d] + ((v.getInt16(2 * k, true) + 32768) / 65535) * (q.hi[d] - q.lo[d]);
    }
    return out;
  }
  // {first, delta, esc, shape (S, N, D), origin, unit} (encode.quantize_steps) -> Float32Array (flat):
  // step 0 as int16, then int8 changes per step; -128 = this step's value is the next int16 of esc
  function unsteps(q) {
    var S = q.shape[0], D = q.shape[q.shape.length - 1], ND = q.shape[1] * D;
    var f = new DataView(bytes(q.first).buffer), d = bytes(q.delta), e = new DataView(bytes(q.esc).buffer);
    var cur = new Int32Array(ND), out = new Float32Array(S * ND), j = 0, k, s, v;
    for (k = 0; k < ND; k++) { cur[k] = f.getInt16(2 * k, true); out[k] = q.origin[k % D] + cur[k] * q.unit; }
    for (s = 1; s < S; s++) {
      for (k = 0; k < ND; k++) {
        v = d[(s - 1) * ND + k];
        if (v === 128) { cur[k] = e.getInt16(2 * j, true); j++; } else cur[k] += v > 127 ? v - 256 : v;
        out[s * ND + k] = q.origin[k % D] + cur[k] * q.unit;
      }
    }
    return out;
  }
  function rgba(c, a) { return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + (a === undefined ? 1 : a) + ")"; }
  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function checkbox(parent, label, on, change) {
    var l = el("label", "", parent), c = el("input", "", l);
    c.type = "checkbox"; c.checked = on;
    l.appendChild(document.createTextNode(" " + label));
    c.addEventListener("change", function () { change(c.checked); });
    return c;
  }
  // a canvas drawn at device resolution; returns {canvas, ctx, w, h} in CSS pixels
  function hiDPI(parent, w, h) {
    var r = window.devicePixelRatio || 1, c = el("canvas", "dsw-main", parent);
    c.width = Math.round(w * r); c.height = Math.round(h * r);
    var ctx = c.getContext("2d");
    ctx.setTransform(r, 0, 0, r, 0, 0);
    return { canvas: c, ctx: ctx, w: w, h: h };
  }
  function canvasPoint(cv, ev) {  // mouse position in the canvas' CSS-pixel drawing space
    var rect = cv.canvas.getBoundingClientRect();
    return [(ev.clientX - rect.left) * cv.w / rect.width, (ev.clientY - rect.top) * cv.h / rect.height];
  }
  function fmt(x, d) { return Number(x).toFixed(d); }
  // the page takes the theme's colours (dsw.css reads these variables; dark without them)
  function applyTheme(root, th) {
    if (!th) return;
    var set = function (k, c) { root.style.setProperty(k, rgba(c)); };
    set("--dsw-bg", th.background); set("--dsw-panel", th.panel); set("--dsw-border", th.border);
    set("--dsw-text", th.text); set("--dsw-dim", th.dim); set("--dsw-accent", th.accent);
    if (root.parentNode === document.body) document.body.style.background = rgba(th.background);
  }

  // ---- density contours: histogram + Gaussian blur + highest-density levels + marching squares
  var MASS = [0.25, 0.5, 0.75, 0.9];
  function blur(a, nx, ny, sigma) {
    var r = Math.max(1, Math.ceil(3 * sigma)), k = [], s = 0, i, j, t;
    for (i = -r; i <= r; i++) { t = Math.exp(-0.5 * (i / sigma) * (i / sigma)); k.push(t); s += t; }
    for (i = 0; i < k.length; i++) k[i] /= s;
    var tmp = new Float32Array(nx * ny), out = new Float32Array(nx * ny);
    for (j = 0; j < ny; j++) for (i = 0; i < nx; i++) {
      s = 0;
      for (t = -r; t <= r; t++) { var ii = i + t; if (ii >= 0 && ii < nx) s += k[t + r] * a[j * nx + ii]; }
      tmp[j * nx + i] = s;
    }
    for (j = 0; j < ny; j++) for (i = 0; i < nx; i++) {
      s = 0;
      for (t = -r; t <= r; t++) { var jj = j + t; if (jj >= 0 && jj < ny) s += k[t + r] * tmp[jj * nx + i]; }
      out[j * nx + i] = s;
    }
    return out;
  }
  function levels(g) {  // density thresholds enclosing MASS of the total (highest-density regions)
    var v = Array.prototype.slice.call(g).sort(function (a, b) { return b - a; });
    var total = 0, i; for (i = 0; i < v.length; i++) total += v[i];
    var out = [], acc = 0, m = 0;
    for (i = 0; i < v.length && m < MASS.length; i++) {
      acc += v[i];
      while (m < MASS.length && acc >= MASS[m] * total) { out.push(v[i]); m++; }
    }
    return out;
  }
  // segments of the iso-line g = lev on an (nx, ny) grid, in grid units
  function march(g, nx, ny, lev, emit) {
    for (var j = 0; j < ny - 1; j++) for (var i = 0; i < nx - 1; i++) {
      var a = g[j * nx + i], b = g[j * nx + i + 1], c = g[(j + 1) * nx + i + 1], d = g[(j + 1) * nx + i];
      var p = [];
      if ((a >= lev) !== (b >= lev)) p.push([i + (lev - a) / (b - a), j]);
      if ((b >= lev) !== (c >= lev)) p.push([i + 1, j + (lev - b) / (c - b)]);
      if ((d >= lev) !== (c >= lev)) p.push([i + (lev - d) / (c - d), j + 1]);
      if ((a >= lev) !== (d >= lev)) p.push([i, j + (lev - a) / (d - a)]);
      if (p.length === 2) emit(p[0], p[1]);
      else if (p.length === 4) { emit(p[0], p[3]); emit(p[1], p[2]); }
    }
  }

  // ---- the animation player -----------------------------------------------------------------
  DSW.animation = function (root, P) {
    var S = P.xs.shape[0] - 1, N = P.xs.shape[1], xs = P.xs.delta ? unsteps(P.xs) : dequant(P.xs), th = P.theme;
    var data = P.data ? dequant(P.data) : null, M = data ? P.data.shape[0] : 0;
    var W = 640, H = Math.round(W / (P.aspect || 4 / 3));
    if (P.title) el("div", "dsw-title", root, P.title);
    var cv = hiDPI(root, W, H), ctx = cv.ctx;
    var bar = el("div", "dsw-controls", root);
    var play = el("button", "dsw-play", bar, "\u25B6 play");
    var slider = el("input", "dsw-slider", bar);
    slider.type = "range"; slider.min = 0; slider.max = 1000; slider.step = 1; slider.value = 0;
    slider.setAttribute("aria-label", "progress from noise to data");
    var counter = el("span", "dsw-counter", bar);
    var opts = { traces: P.traces > 0, contours: !!P.contours, data: !!data };
    var bar2 = el("div", "dsw-controls", root);
    if (P.traces > 0) checkbox(bar2, "traces", opts.traces, function (v) { opts.traces = v; draw(); });
    checkbox(bar2, "contours", opts.contours, function (v) { opts.contours = v; draw(); });
    if (data) checkbox(bar2, "data", opts.data, function (v) { opts.data = v; draw(); });
    if (P.labels && P.classes && P.classes.length) {  // legend: one swatch per class
      var legend = el("span", "dsw-chips", bar2);
      P.classes.forEach(function (name, c) {
        var l = el("span", "dsw-chip", legend), sw = el("span", "dsw-swatch", l);
        sw.style.background = rgba(th.classes[c % th.classes.length]);
        l.appendChild(document.createTextNode(name));
      });
    }
    el("span", "dsw-note", bar2, N + " particles \u00b7 " + (P.sampler || "sampler") + " " + S +
       (S === 1 ? " step" : " steps") + " \u00b7 noise \u2192 data \u00b7 keys: space, \u2190 \u2192");

    var v = P.view, scale = Math.min(W, H) / (2 * v.half);
    function X(x) { return W / 2 + (x - v.cx) * scale; }
    function Y(y) { return H / 2 - (y - v.cy) * scale; }
    var progress = 0, cur = new Float32Array(N * 2), tNow = 1;
    var colours = P.labels ? th.classes.map(function (c) { return rgba(c); }) : [rgba(th.particle)];

    function locate(p) {  // like Trajectory.at: linear between steps
      var u = Math.min(Math.max(p, 0), 1) * S, i = Math.min(Math.floor(u), Math.max(S - 1, 0));
      return [i, Math.min(i + 1, S), u - i];
    }
    function positions(p) {
      var l = locate(p), a = l[0] * N * 2, b = l[1] * N * 2, w = l[2];
      for (var k = 0; k < N * 2; k++) cur[k] = xs[a + k] + w * (xs[b + k] - xs[a + k]);
      return l;
    }
    function drawContours() {
      // 8 px cells and a kernel that widens for fewer particles, as the window's renderer (view/frame.py)
      var nx = Math.round(W / 8), ny = Math.round(H / 8), g = new Float32Array(nx * ny), n = 0;
      for (var k = 0; k < N; k++) {
        var gx = Math.floor(X(cur[2 * k]) / W * nx), gy = Math.floor(Y(cur[2 * k + 1]) / H * ny);
        if (gx >= 0 && gx < nx && gy >= 0 && gy < ny) { g[gy * nx + gx] += 1; n++; }
      }
      if (n < 10) return;
      ctx.lineWidth = 1.2;
      // as the window (view/frame.py): the starting noise gets the exact Gaussian's circles, and
      // towards the noise end the kernel widens to the cloud's own Scott bandwidth (weighted by t),
      // so finite-sample wiggles do not read as structure
      var mx = 0, my = 0, vv = 0;
      for (k = 0; k < N; k++) { mx += cur[2 * k]; my += cur[2 * k + 1]; }
      mx /= N; my /= N;
      for (k = 0; k < N; k++) { var dx = cur[2 * k] - mx, dy = cur[2 * k + 1] - my; vv += dx * dx + dy * dy; }
      vv /= N;  // = 2 s^2 for an isotropic Gaussian N(mu, s^2 I)
      if (tNow >= P.ts[0] - 1e-9 && P.ts[0] >= P.ts[S]) {
        for (var m0 = 0; m0 < MASS.length; m0++) {  // HDR of mass m: the disc of radius s sqrt(-2 ln(1 - m))
          ctx.strokeStyle = rgba(th.contour[Math.min(m0, th.contour.length - 1)], 0.9);
          ctx.beginPath();
          ctx.arc(X(mx), Y(my), Math.sqrt(vv / 2) * Math.sqrt(-2 * Math.log(1 - MASS[m0])) * scale, 0, 2 * Math.PI);
          ctx.stroke();
        }
        return;
      }
      var sigma = Math.min(3.5, Math.max(1.2, 2.2 * Math.pow(2000 / Math.max(n, 1), 1 / 6)));
      var cells = Math.sqrt(vv / 2) * Math.pow(N, -1 / 6) * scale * nx / W;
      if (tNow > 0) sigma = Math.max(sigma, Math.min(tNow * cells, 12));
      g = blur(g, nx, ny, sigma);
      var lv = levels(g);
      for (var m = 0; m < lv.length; m++) {
        ctx.strokeStyle = rgba(th.contour[Math.min(m, th.contour.length - 1)], 0.9);
        ctx.beginPath();
        march(g, nx, ny, lv[m], function (p, q) {  // cell centres -> pixels
          ctx.moveTo((p[0] + 0.5) * W / nx, (p[1] + 0.5) * H / ny);
          ctx.lineTo((q[0] + 0.5) * W / nx, (q[1] + 0.5) * H / ny);
        });
        ctx.stroke();
      }
    }
    function draw() {
      var l = positions(progress), k, s;
      tNow = P.ts[l[0]] + l[2] * (P.ts[l[1]] - P.ts[l[0]]);
      ctx.fillStyle = rgba(th.background); ctx.fillRect(0, 0, W, H);
      if (opts.data && data) {
        ctx.fillStyle = rgba(th.data, th.data_alpha === undefined ? 0.45 : th.data_alpha);
        for (k = 0; k < M; k++) ctx.fillRect(X(data[2 * k]) - 1, Y(data[2 * k + 1]) - 1, 2, 2);
      }
      if (opts.contours) drawContours();
      if (opts.traces) {
        ctx.strokeStyle = rgba(th.trace, th.trace_alpha === undefined ? 0.55 : th.trace_alpha); ctx.lineWidth = 1;
        ctx.beginPath();
        for (k = 0; k < P.traces; k++) {
          ctx.moveTo(X(xs[2 * k]), Y(xs[2 * k + 1]));
          for (s = 1; s <= l[0]; s++) ctx.lineTo(X(xs[(s * N + k) * 2]), Y(xs[(s * N + k) * 2 + 1]));
          ctx.lineTo(X(cur[2 * k]), Y(cur[2 * k + 1]));
        }
        ctx.stroke();
      }
      var r = N > 5000 ? 1.5 : 2.2;
      for (var c = 0; c < colours.length; c++) {  // one fill colour per class: few style changes
        ctx.fillStyle = colours[c];
        for (k = 0; k < N; k++) {
          if (P.labels && P.labels[k] % colours.length !== c) continue;
          ctx.fillRect(X(cur[2 * k]) - r / 2, Y(cur[2 * k + 1]) - r / 2, r, r);
        }
      }
      var step = Math.round(Math.min(Math.max(progress, 0), 1) * S);
      var t = P.ts[l[0]] + l[2] * (P.ts[l[1]] - P.ts[l[0]]);
      counter.textContent = "step " + step + " / " + S + " \u00b7 t = " + fmt(t, 3);
      ctx.fillStyle = rgba(th.text, 0.85); ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("t = " + fmt(t, 2) + "  \u00b7  step " + step + "/" + S, 10, 20);
    }
    var playing = false, last = null, DURATION = 6000;
    function frame(now) {
      if (!playing) return;
      if (last !== null) progress = Math.min(1, progress + (now - last) / DURATION);
      last = now;
      slider.value = Math.round(progress * 1000);
      draw();
      if (progress >= 1) { setPlaying(false); return; }
      requestAnimationFrame(frame);
    }
    function setPlaying(on) {
      playing = on; last = null;
      play.textContent = on ? "\u275A\u275A pause" : "\u25B6 play";
      if (on) { if (progress >= 1) progress = 0; requestAnimationFrame(frame); }
    }
    play.addEventListener("click", function () { setPlaying(!playing); });
    // keys while the player has focus: space plays / pauses, arrows step, Home / End jump
    root.tabIndex = 0;
    root.addEventListener("keydown", function (ev) {
      var k = ev.key, step = 1 / Math.max(S, 1);
      if (k === " ") setPlaying(!playing);
      else if (k === "ArrowRight" || k === "ArrowLeft" || k === "Home" || k === "End") {
        setPlaying(false);
        var s = Math.round(progress * S) + (k === "ArrowRight" ? 1 : k === "ArrowLeft" ? -1 : 0);
        progress = k === "Home" ? 0 : k === "End" ? 1 : Math.min(1, Math.max(0, s * step));
        slider.value = Math.round(progress * 1000); draw();
      } else return;
      ev.preventDefault();
    });
    slider.addEventListener("input", function () { setPlaying(false); progress = slider.value / 1000; draw(); });
    draw();
    return { set: function (p) { progress = p; slider.value = Math.round(p * 1000); draw(); },
             play: function () { setPlaying(true); } };
  };

  // ---- the Tree of Diffusion Life view ------------------------------------------------------
  DSW.tree = function (root, P) {
    var S = P.Y.shape[0], I = P.Y.shape[1], Yd = dequant(P.Y), pidx = P.prompt_index, cols = P.colors;
    var th = P.theme || { background: [17, 19, 26], text: [225, 228, 235], dim: [120, 130, 150] };
    var pos = P.pos2d ? dequant(P.pos2d) : null;
    var W = 640, H = Math.round(W / (P.aspect || 1.15));
    if (P.title) el("div", "dsw-title", root, P.title);
    var cv = hiDPI(root, W, H), ctx = cv.ctx;
    var bar = el("div", "dsw-controls", root);
    var slider = el("input", "dsw-slider", bar);
    slider.type = "range"; slider.min = 0; slider.max = S - 1; slider.step = 1; slider.value = S - 1;
    slider.setAttribute("aria-label", "last step shown");
    var counter = el("span", "dsw-counter", bar);
    var clear = el("button", "dsw-clear", bar, "clear path");
    var chips = el("div", "dsw-chips", root), shown = P.prompts.map(function () { return true; });
    P.prompts.forEach(function (name, p) {
      var l = el("label", "dsw-chip", chips), c = el("input", "", l);
      c.type = "checkbox"; c.checked = true;
      var sw = el("span", "dsw-swatch", l);
      sw.style.background = P.paint ? "conic-gradient(" + P.paint.colors.map(function (c) { return rgba(c); }).join(",") +
        ")" : rgba(cols[p]);
      l.appendChild(document.createTextNode(name));
      c.addEventListener("change", function () { shown[p] = c.checked; dirty = true; draw(); });
    });
    el("div", "dsw-note", root, (P.paint ? "colour: the direction of each final sample from the samples' centre \u00b7 " : "") +
       "hover a point: that step's " + (P.thumbs ? "image" : "2D position") +
       " \u00b7 click: the instance's path across steps \u00b7 slider: steps shown");
    var tip = el("div", "dsw-tip", root), tipCanvas = el("canvas", "", tip), tipText = el("div", "", tip);
    tipCanvas.width = 96; tipCanvas.height = 96;
    var atlas = null;
    if (P.thumbs) { atlas = new Image(); atlas.src = P.thumbs.src; }

    // fit all points; radial keeps the aspect ratio (rings stay round), rectilinear fills the panel
    // both ways (x is the step axis, y the t-SNE axis: one scale for both left the tree a thin strip)
    var lo = [Infinity, Infinity], hi = [-Infinity, -Infinity], k;
    for (k = 0; k < S * I; k++) for (var d = 0; d < 2; d++) {
      lo[d] = Math.min(lo[d], Yd[2 * k + d]); hi[d] = Math.max(hi[d], Yd[2 * k + d]);
    }
    var pad = 24, sx = (W - 2 * pad) / Math.max(hi[0] - lo[0], 1e-9), sy = (H - 2 * pad) / Math.max(hi[1] - lo[1], 1e-9);
    if (P.layout === "radial") sx = sy = Math.min(sx, sy);
    var sc = sx, ox = W / 2 - sx * (lo[0] + hi[0]) / 2, oy = H / 2 + sy * (lo[1] + hi[1]) / 2;
    function px(s, i) { var o = 2 * (s * I + i); return [ox + sx * Yd[o], oy - sy * Yd[o + 1]]; }
    var upto = S - 1, selected = -1, hover = null;

    // step labels ("t=0.50"), as the static figure's: radial along the widest empty wedge, just outside
    // each ring's points and along the ring; rectilinear above the data at each band. A label slides
    // along its ring (or up) until it covers no point and no other label, else it is left out
    var FONT = "11px sans-serif", labels = placeLabels();
    function toPx(x, y) { return [ox + sx * x, oy - sy * y]; }
    function boxOverlap(a, b, gap) {  // two rotated boxes {x, y, rot, w, h}, `gap` px apart: separating axes
      var axes = [a.rot, a.rot + Math.PI / 2, b.rot, b.rot + Math.PI / 2], dx = b.x - a.x, dy = b.y - a.y;
      for (var n = 0; n < 4; n++) {
        var c = Math.cos(axes[n]), sn = Math.sin(axes[n]);
        var ra = Math.abs(c * Math.cos(a.rot) + sn * Math.sin(a.rot)) * a.w / 2 +
                 Math.abs(-c * Math.sin(a.rot) + sn * Math.cos(a.rot)) * a.h / 2;
        var rb = Math.abs(c * Math.cos(b.rot) + sn * Math.sin(b.rot)) * b.w / 2 +
                 Math.abs(-c * Math.sin(b.rot) + sn * Math.cos(b.rot)) * b.h / 2;
        if (Math.abs(c * dx + sn * dy) > ra + rb + gap) return false;
      }
      return true;
    }
    function placeLabels() {
      var L = P.step_labels, out = [], all = [], s, i, j;
      if (!L || !L.steps) return out;
      for (s = 0; s < S; s++) for (i = 0; i < I; i++) all.push(px(s, i));
      var top = Infinity;
      for (j = 0; j < all.length; j++) top = Math.min(top, all[j][1]);
      ctx.save(); ctx.font = FONT;
      function free(b) {
        var c = Math.cos(b.rot), sn = Math.sin(b.rot), hw = b.w / 2 + 1.5, hh = b.h / 2 + 1.5;
        var ex = Math.abs(c) * hw + Math.abs(sn) * hh, ey = Math.abs(sn) * hw + Math.abs(c) * hh;
        if (b.x - ex < 0 || b.x + ex > W || b.y - ey < 0 || b.y + ey > H) return false;  // not clipped
        for (j = 0; j < all.length; j++) {  // no point under it (in the label's own frame)
          var dx = all[j][0] - b.x, dy = all[j][1] - b.y;
          if (Math.abs(c * dx + sn * dy) < hw && Math.abs(-sn * dx + c * dy) < hh) return false;
        }
        for (j = 0; j < out.length; j++) if (boxOverlap(b, out[j], 3)) return false;
        return true;
      }
      var ring = P.guides && P.guides.kind === "ring" && L.angle !== undefined;
      for (var n = 0; n < L.steps.length; n++) {
        var st = L.steps[n], text = L.texts[n], w = ctx.measureText(text).width, h = 12, placed = null;
        var shifts = [0];
        for (var d = 2; d < 80; d += 2) shifts.push(d, -d);
        var outs = ring && P.guides.values[st] === 0 ? [0, 4, 8, 12, 16] : [0];  // the noise disk may step out
        for (var m = 0; m < outs.length && !placed; m++) for (var q = 0; q < shifts.length && !placed; q++) {
          var b;
          if (ring) {  // `shifts[q]` px along the ring, half a line (+2 px) outside its points
            var rr = (P.guides.values[st] + L.half[n]) * sc + h * 0.65 + 2 + outs[m];
            var a = L.angle + shifts[q] / Math.max(rr, 1e-9), cp = toPx(P.guides.center[0], P.guides.center[1]);
            var deg = ((a * 180 / Math.PI) % 180 + 180) % 180 - 90;  // along the ring, upright
            b = { x: cp[0] + rr * Math.cos(a), y: cp[1] - rr * Math.sin(a), rot: -deg * Math.PI / 180, w: w, h: h };
          } else {
            b = { x: toPx(P.guides.values[st], 0)[0], y: top - 4 - h / 2 - Math.abs(shifts[q]), rot: 0, w: w, h: h };
          }
          if (free(b)) placed = b;
        }
        if (placed) { placed.step = st; placed.text = text; out.push(placed); }
      }
      ctx.restore();
      return out;
    }

    // the points are drawn once into an off-screen layer (again only when the slider or the
    // filter changes); hovering only copies it and draws the highlights: big trees stay smooth
    var dpr = window.devicePixelRatio || 1, layer = document.createElement("canvas"), dirty = true;
    layer.width = cv.canvas.width; layer.height = cv.canvas.height;
    var lctx = layer.getContext("2d"), members = P.prompts.map(function () { return []; });
    lctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // a single-prompt tree comes with hue groups (tdl/webview.paint_by_final): painted by those
    var paint = P.paint, groupOf = paint ? paint.group : pidx, gcols = paint ? paint.colors : cols;
    if (paint) members = paint.colors.map(function () { return []; });
    for (k = 0; k < I; k++) members[groupOf[k]].push(k);
    function paintLayer() {
      var s, j, p, c = lctx;
      c.fillStyle = rgba(th.background); c.fillRect(0, 0, W, H);
      if (P.guides && P.guides.kind === "ring") {  // one faint ring per step
        c.strokeStyle = rgba(th.dim, 0.25); c.lineWidth = 1;
        for (s = 0; s <= upto; s++) {
          c.beginPath();
          c.arc(ox + sc * P.guides.center[0], oy - sc * P.guides.center[1], sc * P.guides.values[s], 0, 2 * Math.PI);
          c.stroke();
        }
      }
      if (P.guides && P.guides.kind === "band") {  // one faint line per step
        c.strokeStyle = rgba(th.dim, 0.2); c.lineWidth = 1;
        for (s = 0; s <= upto; s++) {
          var gx = Math.round(ox + sx * P.guides.values[s]) + 0.5;
          c.beginPath(); c.moveTo(gx, 0); c.lineTo(gx, H); c.stroke();
        }
      }
      for (s = 0; s <= upto; s++) {
        var now = s === upto, r = now ? 3.2 : 2;
        for (var q = 0; q < members.length; q++) {  // one fill style per prompt (or hue) and step
          c.fillStyle = rgba(gcols[q], now ? 0.95 : 0.5);
          for (j = 0; j < members[q].length; j++) {
            if (!shown[pidx[members[q][j]]]) continue;
            p = px(s, members[q][j]); c.fillRect(p[0] - r / 2, p[1] - r / 2, r, r);
          }
        }
      }
      c.font = FONT; c.textAlign = "center"; c.textBaseline = "middle"; c.fillStyle = rgba(th.dim);
      for (j = 0; j < labels.length; j++) {
        var lb = labels[j];
        if (lb.step > upto) continue;
        c.save(); c.translate(lb.x, lb.y); c.rotate(lb.rot); c.fillText(lb.text, 0, 0); c.restore();
      }
      dirty = false;
    }
    function draw() {
      if (dirty) paintLayer();
      ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.drawImage(layer, 0, 0); ctx.restore();
      var s, p;
      if (selected >= 0) {
        ctx.strokeStyle = rgba(th.text, 0.95); ctx.lineWidth = 2.2; ctx.beginPath();
        for (s = 0; s < S; s++) { p = px(s, selected); if (s) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); }
        ctx.stroke();
        for (s = 0; s < S; s++) {
          p = px(s, selected); ctx.fillStyle = rgba(gcols[groupOf[selected]]);
          ctx.beginPath(); ctx.arc(p[0], p[1], 3.5, 0, 2 * Math.PI); ctx.fill();
        }
      }
      if (hover) {
        p = px(hover[0], hover[1]);
        ctx.strokeStyle = rgba(th.text); ctx.lineWidth = 1.5; ctx.beginPath(); ctx.arc(p[0], p[1], 6, 0, 2 * Math.PI); ctx.stroke();
      }
      counter.textContent = "steps 0\u2013" + upto + " of " + (S - 1) + " \u00b7 t = " + fmt(P.times[upto], 3);
    }
    function nearest(m) {
      var best = null, bd = 64, s, i, p, dd;  // within 8 px
      for (s = 0; s <= upto; s++) for (i = 0; i < I; i++) {
        if (!shown[pidx[i]]) continue;
        p = px(s, i); dd = (p[0] - m[0]) * (p[0] - m[0]) + (p[1] - m[1]) * (p[1] - m[1]);
        if (dd < bd) { bd = dd; best = [s, i]; }
      }
      return best;
    }
    function thumb(s, i) {
      var t = tipCanvas.getContext("2d");
      t.imageSmoothingEnabled = false;
      t.fillStyle = "#000"; t.fillRect(0, 0, 96, 96);
      if (P.thumbs && P.thumb_rows && !P.thumb_rows[s]) {  // tdl decoded only some steps
        t.fillStyle = "#aaa"; t.font = "11px sans-serif"; t.fillText("step not decoded", 8, 52);
      } else if (atlas && P.thumbs) {
        var n = s * I + i, c = n % P.thumbs.cols, r = Math.floor(n / P.thumbs.cols);
        t.drawImage(atlas, c * P.thumbs.w, r * P.thumbs.h, P.thumbs.w, P.thumbs.h, 0, 0, 96, 96);
      } else if (pos) {  // 2D source: every instance at step s, this one highlighted
        var v = P.pos_view, f = 46 / v.half;  // the frame the animation player would use
        var q = function (j) { var o = 2 * (s * I + j); return [48 + (pos[o] - v.cx) * f, 48 - (pos[o + 1] - v.cy) * f]; };
        t.fillStyle = "rgba(160,170,190,0.6)";
        for (var j = 0; j < I; j++) { var a = q(j); t.fillRect(a[0] - 1, a[1] - 1, 2, 2); }
        var me = q(i); t.fillStyle = rgba(gcols[groupOf[i]]);
        t.beginPath(); t.arc(me[0], me[1], 4, 0, 2 * Math.PI); t.fill();
      }
    }
    function move(ev) {
      var m = canvasPoint(cv, ev), h = nearest(m);
      hover = h;
      if (h) {
        thumb(h[0], h[1]);
        tipText.textContent = P.prompts[pidx[h[1]]] + " \u00b7 instance " + h[1] + " \u00b7 step " + h[0] + " (t = " + fmt(P.times[h[0]], 2) + ")";
        var rect = cv.canvas.getBoundingClientRect(), rr = root.getBoundingClientRect();
        var x = ev.clientX - rr.left + 14, y = ev.clientY - rr.top + 14;
        if (x + 200 > rr.width) x -= 230;
        tip.style.left = x + "px"; tip.style.top = y + "px"; tip.style.display = "block";
      } else tip.style.display = "none";
      draw();
    }
    cv.canvas.addEventListener("pointermove", move);  // mouse, pen and touch
    cv.canvas.addEventListener("pointerleave", function () { hover = null; tip.style.display = "none"; draw(); });
    cv.canvas.addEventListener("click", function (ev) {
      // the point whose thumbnail is shown (a click's integer coordinates may find its neighbour)
      var h = hover || nearest(canvasPoint(cv, ev)); selected = h ? h[1] : -1; draw();
    });
    clear.addEventListener("click", function () { selected = -1; draw(); });
    slider.addEventListener("input", function () { upto = +slider.value; dirty = true; draw(); });
    draw();
    return {  // for scripts and tests: where a point is drawn, in client (page) pixels
      clientPoint: function (s, i) {
        var p = px(s, i), rect = cv.canvas.getBoundingClientRect();
        return [rect.left + p[0] * rect.width / W, rect.top + p[1] * rect.height / H];
      },
      labels: function () {  // the step labels drawn: text, step and box corners in client pixels
        var rect = cv.canvas.getBoundingClientRect(), fx = rect.width / W, fy = rect.height / H;
        return labels.filter(function (b) { return b.step <= upto; }).map(function (b) {
          var c = Math.cos(b.rot), sn = Math.sin(b.rot), pts = [];
          [[-1, -1], [1, -1], [1, 1], [-1, 1]].forEach(function (e) {
            var u = e[0] * b.w / 2, v = e[1] * b.h / 2;
            pts.push([rect.left + (b.x + c * u - sn * v) * fx, rect.top + (b.y + sn * u + c * v) * fy]);
          });
          return { text: b.text, step: b.step, corners: pts };
        });
      },
      select: function (i) { selected = i; draw(); },
      selected: function () { return selected; },
      hovered: function () { return hover; }
    };
  };

  DSW.unsteps = unsteps;  // tests compare it with encode.dequantize
  DSW.mount = function (root, P) {
    if (!root) return null;
    try {
      root.textContent = "";  // the note for places where scripts do not run
      applyTheme(root, P.theme);
      var view = P.kind === "tree" ? DSW.tree(root, P) : DSW.animation(root, P);
      root.dsw = view;
      return view;
    } catch (e) {
      root.textContent = "diffusion-sandbox view failed: " + e;
      throw e;
    }
  };
})();
