// rtc views: one network drawn from the payload the Python side wrote into the page.
// No request leaves the page: everything it needs is in the payload.
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("rtc-payload").textContent);
  var nodes = new vis.DataSet(payload.nodes);
  var edges = new vis.DataSet(payload.edges);
  var container = document.getElementById("graph");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, payload.options);
  var data = payload.data || {};

  window.rtcView = { network: network, nodes: nodes, edges: edges, payload: payload, firstDraw: null, headings: [] };
  network.once("afterDrawing", function () {
    window.rtcView.firstDraw = performance.now();
    document.body.setAttribute("data-drawn", "1");
    readable();
  });

  // ------------------------------------------------------------ zoom: readable first, fit on demand
  // A view whose labels would be drawn under 11 px when fitted (a case with many people on a
  // small screen) opens at the zoom where its smallest font (data.readable, graph units) is
  // about 12 px, at its top left; "fit all" shows everything.
  var note = document.getElementById("zoom-note");
  function bounds() {
    var box = { left: Infinity, top: Infinity };
    nodes.getIds().forEach(function (id) {
      var b = network.getBoundingBox(id);
      box.left = Math.min(box.left, b.left);
      box.top = Math.min(box.top, b.top);
    });
    if (data.axis) box.top = Math.min(box.top, data.axis.y - 20);
    return box;
  }
  function readable() {
    if (!data.readable) return;
    var need = 12 / data.readable;
    if (network.getScale() >= need) return;
    var box = bounds();
    network.moveTo({
      scale: need,
      position: { x: box.left - 30 + container.clientWidth / 2 / need, y: box.top - 80 + container.clientHeight / 2 / need },
      animation: false,
    });
    note.textContent = "zoomed to a readable size: drag to see the rest";
  }
  // ------------------------------------------------------------ PNG and SVG of what is drawn
  function toPNG() {
    var src = container.querySelector("canvas");
    var out = document.createElement("canvas");
    out.width = src.width;
    out.height = src.height;
    var c = out.getContext("2d");
    c.fillStyle = "#ffffff";
    c.fillRect(0, 0, out.width, out.height);
    c.drawImage(src, 0, 0);
    return out.toDataURL("image/png");
  }
  function esc(t) {
    return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function colorOf(c, key) { return typeof c === "string" ? c : (c && c[key]) || "#999999"; }
  // The graph as SVG in graph coordinates, with the marks the page draws now (the year chosen,
  // the colours, dashes and labels): a vector copy for a report.
  function toSVG() {
    var pos = network.getPositions(), parts = [], box = { l: Infinity, t: Infinity, r: -Infinity, b: -Infinity };
    var shown = nodes.get({ filter: function (n) { return !n.hidden; } });  // what the filters left
    var visible = new Set(shown.map(function (n) { return n.id; }));
    shown.map(function (n) { return n.id; }).forEach(function (id) {
      var b = network.getBoundingBox(id);
      box.l = Math.min(box.l, b.left); box.t = Math.min(box.t, b.top);
      box.r = Math.max(box.r, b.right); box.b = Math.max(box.b, b.bottom);
    });
    edges.get().forEach(function (e) {
      var a = pos[e.from], z = pos[e.to];
      if (!a || !z || !visible.has(e.from) || !visible.has(e.to)) return;
      parts.push('<line class="edge" x1="' + a.x + '" y1="' + a.y + '" x2="' + z.x + '" y2="' + z.y + '" stroke="' +
        esc(colorOf(e.color, "color")) + '" stroke-width="' + (e.width || 1) + '"' + (e.dashes ? ' stroke-dasharray="8 5"' : "") + "/>");
    });
    shown.forEach(function (n) {
      var b = network.getBoundingBox(n.id), p = pos[n.id], fill = esc(colorOf(n.color, "background"));
      var stroke = esc(colorOf(n.color, "border")), width = n.borderWidth || 1;
      var font = (n.font && n.font.size) || 14, lines = String(n.label || "").split("\n");
      if (n.shape === "dot") {
        var r = n.size || 10;
        parts.push('<circle class="node" cx="' + p.x + '" cy="' + p.y + '" r="' + r + '" fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + width + '"/>');
        var y0 = p.y + r + font;
      } else {
        var body = network.body.nodes[n.id].shape;
        var w = body.width || (b.right - b.left), h = body.height || (b.bottom - b.top);
        parts.push('<rect class="node" x="' + (p.x - w / 2) + '" y="' + (p.y - h / 2) + '" width="' + w + '" height="' + h +
          '" rx="4" fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + width + '"/>');
        y0 = p.y - (lines.length - 1) * font * 0.6 + font * 0.35;
      }
      parts.push('<text x="' + p.x + '" y="' + y0 + '" font-size="' + font + '" text-anchor="middle">' +
        lines.map(function (l, i) { return '<tspan x="' + p.x + '" dy="' + (i ? font * 1.2 : 0) + '">' + esc(l) + "</tspan>"; }).join("") + "</text>");
    });
    var m = 40, vb = [box.l - m, box.t - m, box.r - box.l + 2 * m, box.b - box.t + 2 * m].join(" ");
    return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + vb + '" font-family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif">' +
      "<title>" + esc(document.title) + "</title>" + parts.join("") + "</svg>";
  }
  window.rtcView.toPNG = toPNG;
  window.rtcView.toSVG = toSVG;
  function download(name, href) {
    var a = document.createElement("a");
    a.download = name;
    a.href = href;
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
  }
  var stem = (payload.kind || "view") + "-" + (data.root || data.case || data.person || data.org || "graph");
  document.getElementById("png").addEventListener("click", function () { download(stem + ".png", toPNG()); });
  document.getElementById("svg").addEventListener("click", function () {
    download(stem + ".svg", "data:image/svg+xml;charset=utf-8," + encodeURIComponent(toSVG()));
  });
  document.getElementById("fit").addEventListener("click", function () {
    network.fit({ animation: false });
    note.textContent = "";
  });

  // Level rings (pressure map) or level bands (top-down views), drawn behind the nodes.
  network.on("beforeDrawing", function (ctx) {
    ctx.save();
    (data.rings || []).forEach(function (ring) {
      var scale = network.getScale();
      ctx.beginPath();
      ctx.arc(0, 0, ring.radius, 0, 2 * Math.PI);
      ctx.lineWidth = 2 / scale;
      ctx.strokeStyle = "rgba(120,120,120,0.25)";
      ctx.stroke();
      var size = 13 / scale;  // the ring's tag keeps one size on screen
      ctx.font = size + "px sans-serif";
      var x = ring.radius * Math.cos(-2.2), y = ring.radius * Math.sin(-2.2);
      var w = ctx.measureText(ring.tag).width;
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fillRect(x - w / 2 - size * 0.3, y - size, w + size * 0.6, size * 1.3);
      ctx.fillStyle = "rgba(60,60,60,0.9)";
      ctx.textAlign = "center";
      ctx.fillText(ring.tag, x, y);
    });
    // column headings (case view): above the top row, one size on screen
    var drawn = [];
    (data.headings || []).forEach(function (h, i) {
      var scale = network.getScale(), size = 15 / scale;
      if (i === 0) window.rtcView.headingTop = Math.min.apply(null, payload.nodes.map(function (n) { return n.y; }));
      ctx.font = "bold " + size + "px sans-serif";
      ctx.fillStyle = "rgba(60,60,60,0.9)";
      ctx.textAlign = "center";
      ctx.fillText(h.label, h.x, window.rtcView.headingTop - 45 - size);
      drawn.push({ label: h.label, x: h.x, px: size * scale });
    });
    window.rtcView.headings = drawn;
    // time axis (career): a tick a year, labels one size on screen, faint lines down the graph
    var axis = data.axis, ticks = [];
    if (axis) {
      var sc = network.getScale(), font = 13 / sc, bottom = Math.max.apply(null, payload.nodes.map(function (n) { return n.y; })) + 120;
      ctx.lineWidth = 1 / sc;
      ctx.font = font + "px sans-serif";
      ctx.textAlign = "center";
      axis.ticks.forEach(function (t, i) {
        ctx.strokeStyle = "rgba(0,0,0,0.08)";
        ctx.beginPath(); ctx.moveTo(t.x, axis.y); ctx.lineTo(t.x, bottom); ctx.stroke();
        ctx.strokeStyle = "rgba(60,60,60,0.8)";
        ctx.beginPath(); ctx.moveTo(t.x, axis.y - 8 / sc); ctx.lineTo(t.x, axis.y); ctx.stroke();
        if (i) { ctx.beginPath(); ctx.moveTo(axis.ticks[i - 1].x, axis.y); ctx.lineTo(t.x, axis.y); ctx.stroke(); }
        ctx.fillStyle = "rgba(60,60,60,0.9)";
        ctx.fillText(t.label, t.x, axis.y - 12 / sc);
        ticks.push({ label: t.label, x: t.x, px: font * sc });
      });
    }
    window.rtcView.axis = ticks;
    (data.spans || []).forEach(function (span) {
      ctx.fillStyle = span.color;
      ctx.fillRect(span.x0, span.y - 4, span.x1 - span.x0, 8);
    });
    (data.bands || []).forEach(function (band, i) {
      ctx.fillStyle = i % 2 ? "rgba(0,0,0,0.035)" : "rgba(0,0,0,0.0)";
      ctx.fillRect(band.x0, band.y0, band.x1 - band.x0, band.y1 - band.y0);
      ctx.font = (band.font || 16) + "px sans-serif";
      ctx.fillStyle = "rgba(60,60,60,0.8)";
      ctx.textAlign = "left";
      ctx.fillText(band.label, band.x0 + 6, band.y0 + (band.font || 16) + 4);
    });
    ctx.restore();
  });

  // ------------------------------------------------------------ labels (pressure map)
  // One size on screen (13 px) at any zoom, placed in data.label_order (levels from the root
  // down), each only where it covers no label placed before it and lies in the window: zooming
  // in makes room for more. window.rtcView.labels lists what was drawn, in screen pixels.
  var LABEL_PX = 13, LABEL_FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif";
  network.on("afterDrawing", function (ctx) {
    if (!data.label_order) return;
    var scale = network.getScale(), font = LABEL_PX / scale, W = container.clientWidth, H = container.clientHeight;
    var pos = network.getPositions(data.label_order), drawn = [];
    ctx.save();
    ctx.font = font + "px " + LABEL_FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.lineJoin = "round";
    data.label_order.forEach(function (id) {
      var n = nodes.get(id), p = pos[id];
      if (!n || !p || n.hidden) return;
      var lines = String(n.label || "").split("\n");
      var width = Math.max.apply(null, lines.map(function (l) { return ctx.measureText(l).width; })) * scale;
      var dom = network.canvasToDOM(p), below = (n.size || 10) * scale + 2;
      var box = { id: id, l: dom.x - width / 2 - 2, r: dom.x + width / 2 + 2, t: dom.y + below, px: LABEL_PX };
      box.b = box.t + lines.length * LABEL_PX * 1.2;
      if (box.r < 0 || box.l > W || box.b < 0 || box.t > H) return;
      for (var i = 0; i < drawn.length; i++) {
        var o = drawn[i];
        if (box.l < o.r && o.l < box.r && box.t < o.b && o.t < box.b) return;
      }
      drawn.push(box);
      ctx.lineWidth = 3 / scale;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.fillStyle = "#222222";
      lines.forEach(function (line, k) {
        var y = p.y + below / scale + k * font * 1.2;
        ctx.strokeText(line, p.x, y);
        ctx.fillText(line, p.x, y);
      });
    });
    ctx.restore();
    window.rtcView.labels = drawn;
  });

  // ------------------------------------------------------------ legend
  var legend = document.getElementById("legend");
  payload.legend.forEach(function (item) {
    var row = document.createElement("div");
    if (item.text) {
      row.className = "legend-text";
      row.textContent = item.text;
    } else if (item.gradient) {
      row.innerHTML = "";
      var label = document.createElement("div");
      label.textContent = item.label;
      var bar = document.createElement("div");
      bar.className = "gradient";
      bar.style.background = "linear-gradient(to right, " + item.gradient.join(", ") + ")";
      var ticks = document.createElement("div");
      ticks.className = "ticks";
      item.ticks.forEach(function (t) {
        var s = document.createElement("span");
        s.textContent = t;
        ticks.appendChild(s);
      });
      row.appendChild(label);
      row.appendChild(bar);
      row.appendChild(ticks);
    } else {
      row.className = "legend-row";
      var sw = document.createElement("span");
      sw.className = "swatch" + (item.shape === "box" ? " box" : "") + (item.line ? " line" : "") + (item.dashes ? " dashed" : "");
      if (item.line) sw.style.borderTopColor = item.color; else sw.style.background = item.color;
      if (item.border) sw.style.border = "3px " + (item.dashed_border ? "dashed " : "solid ") + item.border;
      var text = document.createElement("span");
      text.textContent = item.label;
      row.appendChild(sw);
      row.appendChild(text);
    }
    legend.appendChild(row);
  });

  // ------------------------------------------------------------ details on click
  var details = document.getElementById("details");
  function showDetails(id) {
    var rows = payload.details[id];
    var node = nodes.get(id);
    details.innerHTML = "<h2>details</h2>";
    var h = document.createElement("div");
    h.style.fontWeight = "bold";
    h.textContent = node ? (node.name || node.label || id) : id;
    details.appendChild(h);
    var table = document.createElement("table");
    var extra = window.rtcView.yearRows ? window.rtcView.yearRows(id) : [];
    extra = (window.rtcView.found ? window.rtcView.found(id) : []).map(function (w) { return ["found", w]; }).concat(extra);
    extra.concat(rows || [["id", id]]).forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (cell) {
        var td = document.createElement("td");
        td.textContent = cell;
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    details.appendChild(table);
    (payload.links[id] || []).forEach(function (l) {
      var a = document.createElement("a");
      a.textContent = l[0];
      a.href = l[1];
      details.appendChild(a);
    });
    function button(text, act) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "act";
      b.textContent = text;
      b.addEventListener("click", act);
      details.appendChild(b);
    }
    if (isAggregate(id) && nodes.get(id)) button("expand", function () { openAndShow(id); });
    if (opened[id]) button("collapse what is below", function () { collapse(id); showDetails(id); });
  }
  network.on("click", function (params) {
    if (params.nodes.length) showDetails(params.nodes[0]);
  });
  window.rtcView.showDetails = showDetails;

  // ------------------------------------------------------------ search by name or id
  // Finds what is drawn (by name, id, or an entry of data.find: a leader, a member of an
  // aggregate) and what the aggregates' contents the page holds contain; a match inside an
  // aggregate opens the way to it (rtcView.reveal), from the API when the page is served.
  var search = document.getElementById("search");
  var result = document.getElementById("search-result");
  var matches = [], current = -1, lastQuery = "";
  var index = data.find || {};  // node id -> [[searchable text, what a match means]]
  var tree = data.tree || {};  // organization inside an aggregate -> [its parent, its name]
  var why = {};  // node id -> what the last search found there, shown atop its details
  function find(query) {
    var q = query.trim().toLowerCase(), out = [], seen = {};
    why = {};
    if (!q) return [];
    function hit(id, w) {
      if (!seen[id]) { seen[id] = true; out.push(id); }
      if (w) (why[id] = why[id] || []).push(w);
    }
    function look(n) {
      if (String(n.name || n.label || "").toLowerCase().indexOf(q) >= 0 || String(n.id).toLowerCase() === q) hit(n.id);
      (index[n.id] || []).forEach(function (e) { if (e[0].toLowerCase().indexOf(q) >= 0) hit(n.id, e[1]); });
    }
    nodes.get().forEach(look);
    Object.keys(tree).forEach(function (id) {  // inside the aggregates
      var name = tree[id][1];
      if (!nodes.get(id) && (String(name).toLowerCase().indexOf(q) >= 0 || id.toLowerCase() === q)) {
        hit(id, name + " (" + id + ") is inside this aggregate");
      }
    });
    Object.keys(parts).forEach(function (a) {  // the contents of aggregates not open yet
      var part = parts[a];
      part.nodes.forEach(function (n) {
        if (nodes.get(n.id)) return;
        if (String(n.name || n.label || "").toLowerCase().indexOf(q) >= 0 || String(n.id).toLowerCase() === q) hit(n.id);
        (part.find[n.id] || []).forEach(function (e) { if (e[0].toLowerCase().indexOf(q) >= 0) hit(n.id, e[1]); });
      });
    });
    return out;
  }
  window.rtcView.found = function (id) { return why[id] || []; };
  function focusOn(id, target) {
    if (!id) { result.textContent = "not found"; return null; }
    if (id !== target && why[target]) why[id] = why[target].map(function (w) { return w + " (open it to see it)"; });
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: false });
    showDetails(id);
    result.textContent = (current + 1) + " of " + matches.length;
    return id;
  }
  function go(query) {
    if (query !== lastQuery) { matches = find(query); current = -1; lastQuery = query; }
    if (!matches.length) { result.textContent = query.trim() ? "not found" : ""; return null; }
    current = (current + 1) % matches.length;
    var target = matches[current], shown = reveal(target);
    if (shown && shown.then) {
      result.textContent = "opening…";
      return shown.then(function (s) { return focusOn(s, target); });
    }
    return focusOn(shown, target);
  }
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter") go(search.value); });
  window.rtcView.search = go;

  // ------------------------------------------------------------ expand and collapse (pressure map)
  // An aggregate opens in place: its parent's children, each with the aggregate of what lies
  // below it. Its contents come from the page (data.expand, up to the embed budget) or, when
  // the API serves the page, from /views/pressure/expand. The map is laid out again (the same
  // radial layout as pressure_map.py), so every level keeps its own ring.
  var parts = data.expand || {};  // aggregate id -> its contents
  var opened = {};  // organization id -> what its opened aggregate put on the map
  var partOf = {};  // node id -> the aggregate whose contents hold it
  var yearly = data.yearly, at = {}, edgeAt = {}, labelled = new Set(data.label_order || []);
  var ARRAYS = ["values", "colors", "ratios", "sinks", "colds"];
  if (yearly) {
    yearly.ids.forEach(function (id, k) { at[id] = k; });
    yearly.edges.forEach(function (e, j) { edgeAt[e[0]] = j; });
  }
  function indexPart(a, part) { part.nodes.forEach(function (n) { partOf[n.id] = a; }); }
  Object.keys(parts).forEach(function (a) { indexPart(a, parts[a]); });
  function isAggregate(id) { return /::below$/.test(id); }
  function merge(aggId, part) {
    var agg = nodes.get(aggId), y = part.yearly, parent = y.ids[0], edgeId = parent + "->" + aggId;
    y.ids.forEach(function (id, k) {  // the figures of every column, once per node
      if (at[id] !== undefined) return;
      at[id] = yearly.ids.length;
      yearly.ids.push(id);
      yearly.columns.forEach(function (c, j) { ARRAYS.forEach(function (a) { c[a].push(y.columns[j][a][k]); }); });
    });
    y.edges.forEach(function (e, i) {
      if (edgeAt[e[0]] !== undefined) return;
      edgeAt[e[0]] = yearly.edges.length;
      yearly.edges.push([e[0], at[y.ids[e[1]]], at[y.ids[e[2]]]]);
      yearly.columns.forEach(function (c, j) { c.fades.push(y.columns[j].fades[i]); });
    });
    Object.assign(yearly.tips, y.tips);
    yearly.labels = Object.assign(yearly.labels || {}, y.labels);
    Object.assign(payload.details, part.details);
    if (payload.served) Object.assign(payload.links, part.links);
    Object.assign(index, part.find);
    Object.keys(part.levels).forEach(function (lv) {
      var have = data.levels[lv] || [];
      data.levels[lv] = have.concat(part.levels[lv].filter(function (id) { return have.indexOf(id) < 0; }));
    });
    part.label_order.forEach(function (id) { if (!labelled.has(id)) { labelled.add(id); data.label_order.push(id); } });
    var added = part.nodes.map(function (n) { return n.id; }), edge = edges.get(edgeId);
    nodes.remove(aggId);
    edges.remove(edgeId);
    nodes.add(JSON.parse(JSON.stringify(part.nodes)));
    edges.add(JSON.parse(JSON.stringify(part.edges)));
    opened[parent] = { agg: agg, edge: edge, nodes: added, edges: part.edges.map(function (e) { return e.id; }) };
    paint(added);
    relayout();
    applyFilters();
    return added;
  }
  function expand(aggId) {
    if (!nodes.get(aggId) || !isAggregate(aggId)) return false;
    if (parts[aggId]) return merge(aggId, parts[aggId]);
    if (!payload.served) {
      note.textContent = "this file does not hold what " + aggId + " contains: open the map rooted there (rtc view pressure --root " + aggId.replace(/::below$/, "") + ")";
      return false;
    }
    var q = new URLSearchParams();
    Object.keys(data.query).forEach(function (k) { if (data.query[k] !== null) q.set(k, data.query[k]); });
    q.set("node", aggId);
    note.textContent = "opening " + aggId + "…";
    return fetch("/views/pressure/expand?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("the API answered " + r.status); return r.json(); })
      .then(function (part) {
        parts[aggId] = part;
        indexPart(aggId, part);
        note.textContent = "";
        return nodes.get(aggId) ? merge(aggId, part) : false;
      })
      .catch(function (err) { note.textContent = "could not open " + aggId + ": " + err.message; return false; });
  }
  function collapse(orgId) {
    var rec = opened[orgId];
    if (!rec) return false;
    rec.nodes.forEach(function (id) { if (opened[id]) collapse(id); });
    delete opened[orgId];
    nodes.remove(rec.nodes);
    edges.remove(rec.edges);
    nodes.update(rec.agg);
    edges.update(rec.edge);
    paint([rec.agg.id]);
    relayout();
    applyFilters();
    return true;
  }
  // the aggregate whose opening draws ``x``: the one whose contents hold it, or the one below
  // its parent (an aggregate is drawn with its organization)
  function containerOf(x) {
    if (partOf[x]) return partOf[x];
    if (isAggregate(x)) return containerOf(x.replace(/::below$/, ""));
    return tree[x] && tree[x][0] ? tree[x][0] + "::below" : null;
  }
  // Open the aggregates around ``target`` until it is drawn; what is drawn in the end (the
  // target, or the aggregate holding it when that cannot be opened), or a promise of it.
  function reveal(target) {
    for (var guard = 0; guard < 64; guard++) {
      if (nodes.get(target)) return target;
      var a = containerOf(target);
      while (a && !nodes.get(a)) a = containerOf(a);
      if (!a) return null;
      var done = expand(a);
      if (done && done.then) return done.then(function (ok) { return ok ? reveal(target) : a; });
      if (!done) return a;
    }
    return null;
  }
  // The radial layout of pressure_map.py / view.py ``radial_layout``, on what is drawn now.
  var RING_STEP = 420, GAP = 14, TAU = 2 * Math.PI;
  function relayout() {
    var children = {}, order = [data.root], depth = {}, room = {}, weight = {}, arc = {}, angle = {};
    edges.get().forEach(function (e) { (children[e.from] = children[e.from] || []).push(e.to); });
    Object.keys(children).forEach(function (k) { children[k].sort(function (a, b) { return a < b ? -1 : a > b ? 1 : 0; }); });
    depth[data.root] = 0;
    for (var i = 0; i < order.length; i++) {
      (children[order[i]] || []).forEach(function (c) { depth[c] = depth[order[i]] + 1; order.push(c); });
    }
    var deepest = Math.max.apply(null, order.map(function (o) { return depth[o]; }));
    order.forEach(function (o) { room[o] = 2 * (nodes.get(o).size || 10) + GAP; });
    order.slice().reverse().forEach(function (o) {
      var own = room[o] * deepest / Math.max(depth[o], 1), sum = 0;
      (children[o] || []).forEach(function (c) { sum += weight[c]; });
      weight[o] = Math.max(own, sum);
    });
    arc[data.root] = [0, TAU];
    order.forEach(function (o) {
      var start = arc[o][0], end = arc[o][1], cursor = start;
      (children[o] || []).forEach(function (c) {
        var share = weight[o] ? (end - start) * weight[c] / weight[o] : 0;
        arc[c] = [cursor, cursor + share];
        cursor += share;
      });
      angle[o] = (arc[o][0] + arc[o][1]) / 2;
    });
    var ring = {}, need = {};
    order.forEach(function (o) { if (depth[o]) (ring[depth[o]] = ring[depth[o]] || []).push(o); });
    Object.keys(ring).forEach(function (d) {
      var members = ring[d].sort(function (a, b) { return angle[a] - angle[b]; });
      members.forEach(function (a, j) {
        var b = members[(j + 1) % members.length], gap = ((angle[b] - angle[a]) % TAU + TAU) % TAU || TAU;
        need[d] = Math.max(need[d] || 0, (room[a] + room[b]) / 2 / gap);
      });
    });
    var radius = [0];
    for (var d = 1; d <= deepest; d++) radius.push(Math.max(radius[d - 1] + RING_STEP, need[d] || 0));
    nodes.update(order.map(function (o) {
      var r = radius[depth[o]];
      return { id: o, x: r * Math.cos(angle[o]), y: r * Math.sin(angle[o]) };
    }));
    (data.rings || []).forEach(function (g, k) { if (radius[k + 1] !== undefined) g.radius = radius[k + 1]; });
    for (var extra = (data.rings || []).length + 1; extra <= deepest && data.rings; extra++) {
      data.rings.push({ radius: radius[extra], tag: "", label: "ring " + extra });
    }
    data.rings = (data.rings || []).slice(0, deepest);
    return radius;
  }
  window.rtcView.expand = expand;
  window.rtcView.collapse = collapse;
  window.rtcView.reveal = reveal;
  window.rtcView.relayout = relayout;
  window.rtcView.opened = function () { return Object.keys(opened); };
  function openAndShow(aggId) {
    function show(added) {
      if (!added) return;
      var parent = opened[aggId.replace(/::below$/, "")];
      network.fit({ nodes: added.concat(parent ? [aggId.replace(/::below$/, "")] : []), animation: false });
      network.selectNodes(added);
      result.textContent = added.length + " opened";
    }
    var done = expand(aggId);
    if (done && done.then) done.then(show); else show(done);
  }
  network.on("doubleClick", function (params) {
    if (params.nodes.length && isAggregate(params.nodes[0])) openAndShow(params.nodes[0]);
  });

  // ------------------------------------------------------------ level profile (pressure map)
  // Median received pressure per level of the subtree, the fade ratio from the level above, the
  // steepest fade marked; a click on a level selects its nodes on the map.
  function drawProfile(col) {
    var section = document.getElementById("profile"), body = document.getElementById("profile-body");
    if (!section || !data.levels) return;
    section.hidden = false;
    body.innerHTML = "";
    var head = document.createElement("div");
    head.className = "profile-when";
    head.textContent = col.label;
    body.appendChild(head);
    if (!col.profile) { body.appendChild(document.createTextNode("no data")); return; }
    var rows = col.profile.levels, steep = col.profile.steepest;
    var top = Math.max.apply(null, rows.map(function (r) { return r.median; }).concat([0]));
    rows.forEach(function (r) {
      if (r.fade !== null) {
        var fade = document.createElement("div");
        var isSteep = steep && steep.to_level === r.level;
        fade.className = "fade" + (isSteep ? " steepest" : "");
        fade.textContent = "×" + r.fade + (isSteep ? "  steepest fade" : "");
        body.appendChild(fade);
      }
      var row = document.createElement("button");
      row.type = "button";
      row.className = "level";
      row.dataset.level = r.level;
      var bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = (top > 0 ? 100 * Math.log1p(r.median) / Math.log1p(top) : 0) + "%";
      var text = document.createElement("span");
      text.className = "text";
      text.textContent = r.zh + " " + r.level + ": median " + number(r.median) + " (" + r.orgs + ")";
      row.appendChild(bar);
      row.appendChild(text);
      row.addEventListener("click", function () {
        var ids = data.levels[r.level] || [];
        network.selectNodes(ids);
        result.textContent = ids.length + " " + r.zh + " selected";
      });
      body.appendChild(row);
    });
  }
  window.rtcView.drawProfile = drawProfile;

  // ------------------------------------------------------------ year control (pressure map)
  // Every mark follows the column chosen: fill, sink border, tooltip, an aggregate's label, the
  // fade edges, the subtitle and the details. The figures come from the payload (pressure_map.py).
  var column = null;
  function number(v) {  // as pressure_map._number prints it
    if (v === null || v === undefined) return "no data";
    return Number.isInteger(v) ? v.toFixed(1) : String(v);
  }
  function yearRows(id) {
    if (!column || column.key === "window") return [];
    var k = at[id];
    if (k === undefined) return [];
    var agg = yearly.labels && yearly.labels[id] !== undefined;
    var rows = [["in " + column.label, ""], [agg ? "median received" : "received pressure", number(column.values[k])]];
    if (!agg) {
      rows.push(["pass-on ratio", column.ratios[k] === null ? "—" : number(column.ratios[k])]);
      rows.push(["pressure sink", column.sinks[k] ? "yes" : "no"]);
    }
    rows.push(["below: the window", yearly.columns[yearly.selected].label]);
    return rows;
  }
  window.rtcView.yearRows = yearRows;
  // the marks of the nodes ``ids`` (those drawn) and of every edge drawn, in the chosen column
  function paint(ids) {
    if (!yearly || !column) return;
    nodes.update(ids.filter(function (id) { return nodes.get(id) !== null; }).map(function (id) {
      var k = at[id], fill = column.colors[k], sink = column.sinks[k];
      var u = {
        id: id,
        color: { background: fill, border: sink ? "#111111" : "#555555", highlight: { background: fill, border: "#000" } },
        borderWidth: sink ? 3 : 1,
        title: yearly.tips[id].replace("{value}", number(column.values[k])).replace("{sink}", sink ? " — pressure sink" : ""),
      };
      if (yearly.labels && yearly.labels[id] !== undefined) u.label = yearly.labels[id].replace("{value}", number(column.values[k]));
      return u;
    }));
    edges.update(yearly.edges.filter(function (e) { return edges.get(e[0]) !== null; }).map(function (e) {
      var fade = column.fades[edgeAt[e[0]]];
      return {
        id: e[0],
        color: { color: fade ? "#d7301f" : "#9e9e9e" },
        width: fade ? 3 : 1,
        dashes: fade,
        title: number(column.values[e[1]]) + " -> " + number(column.values[e[2]]) + (fade ? " (fades)" : ""),
      };
    }));
  }
  function choose(i) {
    column = yearly.columns[i];
    paint(nodes.getIds());
    document.getElementById("subtitle").textContent = column.subtitle;
    drawProfile(column);
    applyFilters();
    var shown = network.getSelectedNodes();
    if (shown.length) showDetails(shown[0]);
  }
  // ------------------------------------------------------------ filters (pressure map)
  // Show only a level, only the sinks, or a range of the pressure the chosen column shows;
  // hidden nodes take their edges and labels with them.
  function applyFilters() {
    if (!yearly || !column) return;
    var level = document.getElementById("filter-level").value;
    var sinksOnly = document.getElementById("filter-sinks").checked, coldOnly = document.getElementById("filter-cold").checked;
    var lo = parseFloat(document.getElementById("filter-min").value), hi = parseFloat(document.getElementById("filter-max").value);
    var inLevel = level ? new Set(data.levels[level] || []) : null, shownCount = 0, drawn = nodes.getIds();
    nodes.update(drawn.map(function (id) {
      var k = at[id], v = column.values[k];
      var show = (!inLevel || inLevel.has(id)) && (!sinksOnly || column.sinks[k]) && (!coldOnly || column.colds[k]) &&
        (isNaN(lo) || (v !== null && v >= lo)) && (isNaN(hi) || (v !== null && v <= hi));
      if (show) shownCount++;
      return { id: id, hidden: !show };
    }));
    document.getElementById("filter-count").textContent = shownCount + " of " + drawn.length + " shown";
  }
  if (yearly && data.levels) {
    var levelSelect = document.getElementById("filter-level");
    Object.keys(data.levels).forEach(function (lv) {
      var o = document.createElement("option");
      o.value = lv;
      o.textContent = lv + " (" + data.levels[lv].length + ")";
      levelSelect.appendChild(o);
    });
    ["filter-level", "filter-sinks", "filter-cold", "filter-min", "filter-max"].forEach(function (id) {
      document.getElementById(id).addEventListener(id === "filter-min" || id === "filter-max" ? "input" : "change", applyFilters);
    });
    document.getElementById("filters").hidden = false;
    window.rtcView.applyFilters = applyFilters;
  }
  document.getElementById("zoom-selection").addEventListener("click", function () {
    var chosen = network.getSelectedNodes();
    if (chosen.length) network.fit({ nodes: chosen, animation: false });
  });
  if (yearly && yearly.columns.length === 1) { column = yearly.columns[0]; drawProfile(column); }
  if (yearly && yearly.columns.length > 1) {
    var box = document.getElementById("year-box");
    var select = document.getElementById("year");
    yearly.columns.forEach(function (c, i) {
      var o = document.createElement("option");
      o.value = String(i);
      o.textContent = c.label;
      if (c.nodata) o.className = "nodata";
      select.appendChild(o);
    });
    select.value = String(yearly.selected);
    column = yearly.columns[yearly.selected];
    drawProfile(column);
    box.hidden = false;
    select.addEventListener("change", function () { choose(Number(select.value)); });
    window.rtcView.chooseYear = function (label) {
      var i = yearly.columns.findIndex(function (c) { return c.key === label || c.label.split(" ")[0] === label; });
      if (i < 0) return false;
      select.value = String(i);
      choose(i);
      return true;
    };
  }
})();
