/* Head-to-head: any two models, chosen by #a=<model key>&b=<model key>.
 * One page for all pairs (no per-pair files): it loads the per-benchmark score files of the
 * benchmarks both models have and computes, in the browser, the paired difference with a clustered
 * bootstrap CI and McNemar's test (0/1 scores) or the paired bootstrap test (continuous scores).
 */
(function () {
  "use strict";
  var EH = window.EH, M = window.EH_DATA.manifest, S = EH.stats, RESAMPLES = 1000, ALPHA = 0.05;
  if (!M) return;
  var el = EH.el;
  var pickA = document.querySelector("[data-pick=a]"), pickB = document.querySelector("[data-pick=b]");
  var pickItems = document.querySelector("[data-pick=items]");
  var body = document.querySelector("[data-result] tbody"), summary = document.querySelector("[data-summary]");
  var list = document.querySelector("[data-list]");
  var token = 0;

  /* ranked runs: model key -> benchmark version -> run key */
  var ranked = {};
  Object.keys(M.runs).forEach(function (k) {
    var r = M.runs[k];
    if (!r.r || !M.benches[r.b].cur) return;
    (ranked[r.m] = ranked[r.m] || {})[r.b] = k;
  });
  var models = Object.keys(ranked).sort(function (a, b) {
    var x = M.models[a], y = M.models[b];
    var rx = x.rk === null ? Infinity : x.rk, ry = y.rk === null ? Infinity : y.rk;
    return rx - ry || (y.o || 0) - (x.o || 0) || x.n.localeCompare(y.n);
  });
  [pickA, pickB].forEach(function (p) {
    models.forEach(function (k) { p.appendChild(el("option", { value: k }, [M.models[k].n])); });
  });

  function decode(v) {
    if (typeof v === "string") return Array.from(v, function (c) { return c === "1" ? 1 : c === "0" ? 0 : NaN; });
    return v.map(function (x) { return x === null ? NaN : x; });
  }
  function seedOf(text) { var h = 2166136261; for (var i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619); return h >>> 0; }

  function compareBench(bv, scores, ra, rb) {
    var a = decode(scores.runs[ra]), b = decode(scores.runs[rb]);
    var diffs = [], groups = [], sa = 0, sb = 0, onlyA = 0, onlyB = 0;
    for (var i = 0; i < a.length; i++) {
      if (!isFinite(a[i]) || !isFinite(b[i])) continue;
      diffs.push(a[i] - b[i]); groups.push(scores.groups[i]); sa += a[i]; sb += b[i];
      if (a[i] >= 0.5 && b[i] < 0.5) onlyA++;
      if (a[i] < 0.5 && b[i] >= 0.5) onlyB++;
    }
    var n = diffs.length;
    var draws = n ? S.clusterDraws(diffs, groups, RESAMPLES, seedOf(bv)) : new Float64Array(RESAMPLES).fill(NaN);
    var p = scores.binary ? S.mcnemar(onlyA, onlyB) : S.bootstrapP(draws);
    return { bv: bv, n: n, a: n ? sa / n : NaN, b: n ? sb / n : NaN, d: n ? (sa - sb) / n : NaN,
             ci: S.percentiles(draws), p: p, onlyA: onlyA, onlyB: onlyB, draws: draws, binary: scores.binary };
  }

  /* McNemar's test counts items; the interval resamples clusters (items sharing an image). With
   * few clusters the two can disagree, and neither verdict would be honest alone. */
  function verdict(r, nameA, nameB) {
    if (r.n === 0) return "no shared items";
    var excludesZero = isFinite(r.ci[0]) && (r.ci[0] > 0 || r.ci[1] < 0);
    if (isFinite(r.ci[0]) && (r.p < ALPHA) !== excludesZero) return "unclear: test and interval disagree";
    if (r.p >= ALPHA) return "no significant difference";
    return (r.d > 0 ? nameA : nameB) + " better";
  }
  EH.verdict = verdict;

  function row(label, r, pct, nameA, nameB, strong) {
    var ci = isFinite(r.ci[0]) ? " [" + EH.fmt(r.ci[0], pct) + ", " + EH.fmt(r.ci[1], pct) + "]" : "";
    var cls = / better$/.test(verdict(r, nameA, nameB)) ? (r.d > 0 ? "win-a" : "win-b") : "";
    return el("tr", { class: (strong ? "total " : "") + cls }, [
      el("td", {}, [label]), el("td", { class: "num" }, [r.n === null ? "" : String(r.n)]),
      el("td", { class: "num" }, [EH.fmt(r.a, pct)]), el("td", { class: "num" }, [EH.fmt(r.b, pct)]),
      el("td", { class: "num" }, [EH.fmt(r.d, pct) + ci]),
      el("td", { class: "num" }, [r.onlyA === null ? "" : String(r.onlyA)]),
      el("td", { class: "num" }, [r.onlyB === null ? "" : String(r.onlyB)]),
      el("td", { class: "num" }, [!isFinite(r.p) ? "—" : r.p < 0.001 ? "< 0.001" : r.p.toPrecision(2)]),
      el("td", {}, [verdict(r, nameA, nameB)]),
    ]);
  }

  function run() {
    var a = pickA.value, b = pickB.value, mine = ++token;
    EH.setParams({ a: a, b: b });
    var nameA = M.models[a].n, nameB = M.models[b].n;
    var shared = Object.keys(ranked[a] || {}).filter(function (bv) { return ranked[b] && ranked[b][bv] && M.benches[bv].items; });
    shared.sort(function (x, y) { return M.benches[x].o - M.benches[y].o; });
    body.textContent = "";
    summary.textContent = shared.length ? "Computing…" : "These two models share no benchmark.";
    Promise.all(shared.map(function (bv) { return EH.load("data/scores/" + bv + ".js", "scores:" + bv); }))
      .then(function (loaded) {
        if (mine !== token) return;
        var results = loaded.map(function (sc, i) { return compareBench(shared[i], sc, ranked[a][shared[i]], ranked[b][shared[i]]); });
        var pct = results.every(function (r) { return M.benches[r.bv].pct; });
        results.forEach(function (r) { body.appendChild(row(M.benches[r.bv].n, r, M.benches[r.bv].pct, nameA, nameB)); });
        var used = results.filter(function (r) { return r.n > 0; });
        if (used.length) {
          var total = new Float64Array(RESAMPLES);
          used.forEach(function (r) { for (var i = 0; i < RESAMPLES; i++) total[i] += r.draws[i] / used.length; });
          var mean = function (f) { return used.reduce(function (s, r) { return s + r[f]; }, 0) / used.length; };
          var o = { n: null, a: mean("a"), b: mean("b"), d: mean("d"), ci: S.percentiles(total), p: S.bootstrapP(total), onlyA: null, onlyB: null };
          body.appendChild(row("Mean over " + used.length + " benchmarks", o, pct, nameA, nameB, true));
        }
        summary.textContent = "A = " + nameA + ", B = " + nameB + ". Means are over the items both answered; the overall " +
          "row averages the benchmarks and tests it with a paired bootstrap over the pooled samples. " +
          "A verdict is unclear where the test and the interval disagree, as they can with few items or few images.";
        fill(results);
      }, function (err) { summary.textContent = String(err.message); });
  }

  function fill(results) {
    pickItems.textContent = "";
    results.forEach(function (r) {
      pickItems.appendChild(el("option", { value: r.bv }, [M.benches[r.bv].n + " (" + (r.onlyA + r.onlyB) + ")"]));
    });
    var best = results.slice().sort(function (x, y) { return (y.onlyA + y.onlyB) - (x.onlyA + x.onlyB); })[0];
    if (best) pickItems.value = best.bv;
    items();
  }

  function items() {
    var bv = pickItems.value, a = pickA.value, b = pickB.value, mine = token;
    list.textContent = "";
    if (!bv) return;
    var ra = ranked[a][bv], rb = ranked[b][bv];
    Promise.all([EH.load("data/items/" + bv + ".js", "items:" + bv), EH.load("data/runs/" + ra + ".js", "run:" + ra),
                 EH.load("data/runs/" + rb + ".js", "run:" + rb)]).then(function (got) {
      if (mine !== token) return;
      var it = got[0], byItem = function (d) { var m = {}; d.s.forEach(function (s, j) { m[d.i ? d.i[j] : j] = j; }); return m; };
      var da = got[1], db = got[2], ia = byItem(da), ib = byItem(db), rows = [];
      Object.keys(ia).forEach(function (i) {
        if (!(i in ib)) return;
        var sa = da.s[ia[i]], sb = db.s[ib[i]];
        if (sa === null || sb === null || (sa >= 0.5) === (sb >= 0.5) && Math.abs(sa - sb) < 0.25) return;
        rows.push({ i: +i, sa: sa, sb: sb, ja: ia[i], jb: ib[i] });
      });
      rows.sort(function (x, y) { return Math.abs(y.sa - y.sb) - Math.abs(x.sa - x.sb) || x.i - y.i; });
      if (!rows.length) list.appendChild(el("p", { class: "empty-state" }, ["They agree on every item."]));
      rows.slice(0, 100).forEach(function (r) {
        var side = function (name, d, j, s) {
          return [el("dt", {}, [name]), el("dd", { class: "pre" }, [(d.p[j] === null ? "(no output)" : d.p[j]) +
            (d.x[j] !== null ? "  → " + d.x[j] : "") + "  · score " + s + (d.e[j] ? "  · " + d.e[j] : "")])];
        };
        var card = EH.sampleCard({ id: it.id[r.i], q: it.q[r.i], t: it.t[r.i], c: it.c[r.i], ch: it.ch[r.i], img: it.img[r.i] },
          [].concat(side("A: " + M.models[a].n, da, r.ja, r.sa), side("B: " + M.models[b].n, db, r.jb, r.sb)));
        card.classList.add(r.sa > r.sb ? "o-correct" : "o-wrong");
        list.appendChild(card);
      });
      if (rows.length > 100) list.appendChild(el("p", { class: "note" }, ["Showing 100 of " + rows.length + " items."]));
    }, function (err) { list.textContent = String(err.message); });
  }

  var params = EH.params();
  var initA = params.get("a"), initB = params.get("b");
  pickA.value = EH.validKey(initA) && ranked[initA] ? initA : models[0];
  pickB.value = EH.validKey(initB) && ranked[initB] ? initB : models[1] || models[0];
  pickA.addEventListener("change", run);
  pickB.addEventListener("change", run);
  pickItems.addEventListener("change", items);
  document.querySelector("[data-swap]").addEventListener("click", function () {
    var t = pickA.value; pickA.value = pickB.value; pickB.value = t; run();
  });
  if (models.length) run(); else summary.textContent = "No ranked runs yet.";
})();
