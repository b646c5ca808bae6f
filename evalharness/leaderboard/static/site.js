/* evalharness leaderboard: shared page script.
 * Table sorting and filtering, charts, data loading and the paired statistics of the head-to-head
 * page. Data from results is only ever written with textContent or validated attributes, never
 * parsed as HTML. Data files are <script src> files (file:// pages cannot fetch()).
 */
(function () {
  "use strict";
  window.EH_DATA = window.EH_DATA || {};
  var EH = (window.EH = window.EH || {});
  var KEY = /^[a-z0-9-]{1,80}$/;
  var IMAGE = /^[A-Za-z0-9_-]{4,128}$/;
  var SAFE_URL = /^(?:\.\.\/)?(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+\.(?:html|jpg|js)(?:#[A-Za-z0-9=&_-]*)?$/;

  EH.validKey = function (k) { return typeof k === "string" && KEY.test(k); };

  /* Build an element. Attributes other than class/title/aria are allowlisted; hrefs and srcs must
   * be relative site paths built from keys. Children are nodes or strings (as text). */
  EH.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (/^on/i.test(name)) throw new Error("event attributes are not allowed");
      if ((name === "href" || name === "src") && !SAFE_URL.test(String(value))) return;
      node.setAttribute(name, String(value));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return node;
  };

  EH.thumb = function (root, fp) {
    if (!IMAGE.test(fp)) return null;
    return EH.el("img", { src: root + "images/" + fp.slice(0, 2) + "/" + fp + ".jpg", alt: "sample image", loading: "lazy" });
  };

  /* A sample as a card: thumbnails, id, prompt, options, target, plus `extra` dt/dd pairs. */
  EH.field = function (name, value, cls) {
    if (value === null || value === undefined || value === "") return [];
    return [EH.el("dt", {}, [name]), EH.el("dd", { class: cls || null }, [String(value)])];
  };

  EH.sampleCard = function (r, extra) {
    var thumbs = EH.el("div", { class: "thumbs" }, (r.img || []).map(function (fp) { return EH.thumb("", fp); }));
    if (!r.img || !r.img.length) thumbs.appendChild(EH.el("span", { class: "noimg" }, ["no image"]));
    var head = EH.el("header", {}, [EH.el("code", {}, [r.id]), r.c ? EH.el("span", { class: "badge" }, [r.c]) : null]);
    var dl = EH.el("dl", {}, [].concat(EH.field("Prompt", r.q, "pre"), EH.field("Options", r.ch && r.ch.join(" · ")),
      EH.field("Target", r.t), extra || []));
    return EH.el("article", { class: "sample" }, [thumbs, EH.el("div", { class: "body" }, [head, dl])]);
  };

  /* Load a data file once; resolves with EH_DATA[key]. */
  var loading = {};
  EH.load = function (path, key) {
    if (Object.prototype.hasOwnProperty.call(window.EH_DATA, key)) return Promise.resolve(window.EH_DATA[key]);
    if (loading[key]) return loading[key];
    loading[key] = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = path;
      s.onload = function () { resolve(window.EH_DATA[key]); };
      s.onerror = function () { delete loading[key]; reject(new Error("cannot load " + path)); };
      document.head.appendChild(s);
    });
    return loading[key];
  };

  EH.params = function () { return new URLSearchParams(location.hash.replace(/^#/, "")); };
  EH.setParams = function (obj) {
    var p = new URLSearchParams();
    Object.keys(obj).forEach(function (k) { if (obj[k]) p.set(k, obj[k]); });
    history.replaceState(null, "", "#" + p.toString());
  };

  EH.fmt = function (v, pct) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    return pct ? (v * 100).toFixed(1) : v.toFixed(3);
  };

  /* ---- statistics (mirrors evalharness/leaderboard/ranking.py) ---- */
  function logFactorial(n) { var s = 0; for (var i = 2; i <= n; i++) s += Math.log(i); return s; }
  function erfc(x) {
    // Chebyshev fit (Numerical Recipes erfcc), relative error < 1.2e-7
    var z = Math.abs(x), t = 1 / (1 + 0.5 * z);
    var r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
      t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
  function mcnemar(b, c) {
    var n = b + c;
    if (n === 0) return 1;
    if (n <= 100) {
      var k = Math.min(b, c), lf = logFactorial(n), tail = 0;
      for (var i = 0; i <= k; i++) tail += Math.exp(lf - logFactorial(i) - logFactorial(n - i) + n * Math.log(0.5));
      return Math.min(1, 2 * tail);
    }
    var chi2 = Math.pow(Math.abs(b - c) - 1, 2) / n;
    return erfc(Math.sqrt(chi2 / 2));
  }
  function rng(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  /* Bootstrap draws of the mean of `values`, resampling whole clusters (`groups`). */
  function clusterDraws(values, groups, resamples, seed) {
    var sums = new Map(), order = [];
    values.forEach(function (v, i) {
      var g = groups[i], s = sums.get(g);
      if (!s) { s = [0, 0]; sums.set(g, s); order.push(s); }
      s[0] += v; s[1] += 1;
    });
    var k = order.length, draw = rng(seed), out = new Float64Array(resamples);
    for (var r = 0; r < resamples; r++) {
      var num = 0, den = 0;
      for (var j = 0; j < k; j++) { var c = order[(draw() * k) | 0]; num += c[0]; den += c[1]; }
      out[r] = den > 0 ? num / den : NaN;
    }
    return out;
  }
  function bootstrapP(draws) {
    var below = 0, above = 0, n = 0;
    draws.forEach(function (d) {
      if (!isFinite(d)) return;
      n++;
      if (d < 0) below++; else if (d > 0) above++; else { below += 0.5; above += 0.5; }
    });
    return n ? Math.min(1, 2 * Math.min(below, above) / n) : 1;
  }
  function percentiles(draws) {
    var d = Array.from(draws).filter(isFinite).sort(function (a, b) { return a - b; });
    if (!d.length) return [NaN, NaN];
    function q(p) { var x = p * (d.length - 1), i = Math.floor(x), f = x - i; return d[i] + (i + 1 < d.length ? f * (d[i + 1] - d[i]) : 0); }
    return [q(0.025), q(0.975)];
  }
  EH.stats = { mcnemar: mcnemar, erfc: erfc, rng: rng, clusterDraws: clusterDraws, bootstrapP: bootstrapP, percentiles: percentiles };

  /* ---- tables: sorting and filtering ---- */
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return numeric ? NaN : "";
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent.trim();
    return numeric ? (v === "" ? NaN : Number(v)) : v.toLowerCase();
  }
  function sortTable(table, th) {
    var index = th.cellIndex, numeric = th.getAttribute("data-sort") === "num";
    var current = th.getAttribute("aria-sort");
    var first = th.textContent.trim() === "Rank" || !numeric ? "ascending" : "descending";
    var dir = current === first ? (first === "ascending" ? "descending" : "ascending") : first;
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains("section"); });
      rows.sort(function (a, b) {
        var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
        if (numeric) {
          if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
          return sign * (x - y);
        }
        return sign * (x < y ? -1 : x > y ? 1 : 0);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  }
  function initSorting() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      table.querySelectorAll("th[data-sort]").forEach(function (th) {
        th.tabIndex = 0;
        th.addEventListener("click", function (e) { if (e.target.tagName !== "A") sortTable(table, th); });
        th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortTable(table, th); });
      });
    });
  }
  function initFilters() {
    var box = document.getElementById("filters"), table = document.getElementById("board");
    if (!box || !table) return;
    var controls = box.querySelectorAll("[data-filter]"), count = box.querySelector("[data-count]");
    function apply() {
      var want = {};
      controls.forEach(function (c) { want[c.getAttribute("data-filter")] = c.value.trim().toLowerCase(); });
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        var any = false;
        Array.prototype.forEach.call(body.rows, function (r) {
          if (r.classList.contains("section")) return;
          var ok = ["family", "size", "kind"].every(function (k) {
            return !want[k] || (r.getAttribute("data-" + k) || "").toLowerCase() === want[k];
          }) && (!want.text || (r.getAttribute("data-name") || "").indexOf(want.text) >= 0);
          r.hidden = !ok;
          if (ok) { any = true; shown++; }
        });
        body.hidden = !any;
      });
      if (count) count.textContent = shown + " shown";
    }
    controls.forEach(function (c) { c.addEventListener("input", apply); c.addEventListener("change", apply); });
    apply();
  }
  /* Shade score cells by their place within the column, over the evaluated models. */
  function initHeat() {
    var table = document.getElementById("board");
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-kind]"));
    var models = rows.filter(function (r) { return r.getAttribute("data-kind") === "model"; });
    var header = table.tHead.rows[table.tHead.rows.length - 1];
    for (var i = 3; i < header.cells.length; i++) {
      if (i === 4) continue;
      var vals = models.map(function (r) { return cellValue(r, i, true); }).filter(isFinite);
      if (vals.length < 2) continue;
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      rows.forEach(function (r) {
        var v = cellValue(r, i, true), cell = r.cells[i];
        if (!isFinite(v) || hi <= lo || !cell) return;
        var t = Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
        cell.style.backgroundColor = "rgba(37, 99, 235, " + (0.04 + 0.26 * t).toFixed(3) + ")";
      });
    }
  }

  /* ---- charts ---- */
  EH.plot = function (div, fig) {
    if (!window.Plotly) { div.textContent = "Charts need assets/plotly.min.js."; return; }
    window.Plotly.newPlot(div, fig.data, fig.layout, {
      displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"],
    });
  };
  function initCharts() {
    document.querySelectorAll("div.chart[data-figure]").forEach(function (div) {
      var source = document.getElementById(div.getAttribute("data-figure"));
      if (source) EH.plot(div, JSON.parse(source.textContent));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initSorting();
    initFilters();
    initHeat();
    initCharts();
  });
})();
