/* Sample browser: one page for every run, chosen by #run=<run key>.
 * Loads data/items/<benchmark version>.js (shared by all runs) and data/runs/<run>.js on demand
 * and renders one page of samples at a time, so runs of any size stay fast.
 */
(function () {
  "use strict";
  var EH = window.EH, M = window.EH_DATA.manifest, PAGE = 50;
  if (!M) return;
  var el = EH.el;
  var state = { run: null, rows: [], show: "all", q: "", page: 0 };
  var pickModel = document.querySelector("[data-pick=model]");
  var pickRun = document.querySelector("[data-pick=bench]");
  var list = document.querySelector("[data-list]");
  var info = document.querySelector("[data-info]");
  var title = document.querySelector("[data-title]");

  function runsOf(mkey) {
    return Object.keys(M.runs).filter(function (k) { return M.runs[k].m === mkey; }).sort(function (a, b) {
      var x = M.benches[M.runs[a].b], y = M.benches[M.runs[b].b];
      return (x.n + x.v).localeCompare(y.n + y.v) || (M.runs[b].r - M.runs[a].r);
    });
  }
  function runLabel(k) {
    var r = M.runs[k], b = M.benches[r.b];
    var bits = [b.n];
    if (!b.cur) bits.push("v" + b.v);
    if (r.st !== "complete") bits.push("(" + r.st + ")");
    else if (!r.r) bits.push("(not ranked)");
    return bits.join(" ");
  }
  function fill(select, options, value) {
    select.textContent = "";
    options.forEach(function (o) { select.appendChild(el("option", { value: o[0] }, [o[1]])); });
    if (value) select.value = value;
  }
  var models = Object.keys(M.models).filter(function (k) { return runsOf(k).length; })
    .sort(function (a, b) { return M.models[a].n.localeCompare(M.models[b].n); });
  fill(pickModel, models.map(function (k) { return [k, M.models[k].n]; }));

  var READ_NOTES = {
    unreadable: "no answer: the extraction rules found none, or two different ones",
    truncated: "no answer: the reply ended inside its reasoning trace (max_new_tokens ran out)",
  };

  function outcome(row) {
    if (row.e) return "error";
    if (row.u) return "unsupported";
    if (row.r === "truncated") return "truncated";
    if (row.s === null || row.s === undefined) return "missing";
    return row.s >= 0.5 ? "correct" : "wrong";
  }

  function select(runKey) {
    if (!EH.validKey(runKey) || !M.runs[runKey]) runKey = null;
    if (!runKey) {
      var m = pickModel.value || models[0];
      runKey = m ? runsOf(m)[0] : null;
    }
    if (!runKey) { info.textContent = "No runs in this results folder."; return; }
    var run = M.runs[runKey], bench = M.benches[run.b];
    pickModel.value = run.m;
    fill(pickRun, runsOf(run.m).map(function (k) { return [k, runLabel(k)]; }), runKey);
    EH.setParams({ run: runKey });
    state.run = runKey;
    title.textContent = M.models[run.m].n + " × " + bench.n;
    info.textContent = "Loading samples…";
    if (!bench.items) { info.textContent = "No samples stored for this run."; list.textContent = ""; return; }
    Promise.all([
      EH.load("data/items/" + run.b + ".js", "items:" + run.b),
      EH.load("data/runs/" + runKey + ".js", "run:" + runKey),
    ]).then(function (loaded) {
      if (state.run !== runKey) return;
      var items = loaded[0], data = loaded[1];
      state.rows = data.s.map(function (s, j) {
        var i = data.i ? data.i[j] : j;
        return { id: items.id[i], q: (data.q && data.q[j]) || items.q[i], t: items.t[i], c: items.c[i],
                 ch: items.ch[i], img: items.img[i], p: data.p[j], x: data.x[j], s: s, e: data.e[j], u: data.u[j],
                 r: data.r ? data.r[j] : null };
      });
      state.rows.forEach(function (r) { r.o = outcome(r); });
      var counts = {};
      state.rows.forEach(function (r) { counts[r.o] = (counts[r.o] || 0) + 1; });
      info.textContent = "Version " + bench.v + " · status " + run.st + " · score " + EH.fmt(run.s, bench.pct) +
        (isFinite(run.lo) && run.lo !== null ? " [" + EH.fmt(run.lo, bench.pct) + ", " + EH.fmt(run.hi, bench.pct) + "]" : "") +
        " · " + state.rows.length + " samples: " + (counts.correct || 0) + " correct, " + (counts.wrong || 0) +
        " wrong, " + (counts.error || 0) + " errors, " + (counts.unsupported || 0) + " unsupported, " +
        (counts.truncated || 0) + " truncated" +
        (run.why ? " · not ranked: " + run.why : "");
      state.page = 0;
      render();
    }, function (err) { info.textContent = String(err.message); });
  }

  function matches(r) {
    if (state.show !== "all" && r.o !== state.show) return false;
    if (!state.q) return true;
    return [r.id, r.q, r.p, r.x, r.t, r.e].some(function (v) { return v && String(v).toLowerCase().indexOf(state.q) >= 0; });
  }

  var field = EH.field;

  function render() {
    var rows = state.rows.filter(matches), pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    list.textContent = "";
    rows.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (r) {
      var card = EH.sampleCard(r, [].concat(field("Output", r.p, "pre"), field("Extracted", r.x),
        field("Score", r.s === null ? null : r.s), field("Error", r.e, "err"),
        field("Read", READ_NOTES[r.r] || null), r.u ? field("Unsupported", "the model cannot answer this kind of item") : []));
      card.classList.add("o-" + r.o);
      card.querySelector("header").appendChild(el("span", { class: "outcome o-" + r.o }, [r.o]));
      list.appendChild(card);
    });
    if (!rows.length) list.appendChild(el("p", { class: "empty-state" }, ["No samples match."]));
    document.querySelectorAll("[data-pager]").forEach(function (p) {
      p.textContent = "";
      var prev = el("button", { type: "button" }, ["‹ previous"]), next = el("button", { type: "button" }, ["next ›"]);
      prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
      prev.addEventListener("click", function () { state.page--; render(); });
      next.addEventListener("click", function () { state.page++; render(); });
      p.appendChild(prev);
      p.appendChild(el("span", {}, ["page " + (state.page + 1) + " of " + pages + " · " + rows.length + " samples"]));
      p.appendChild(next);
    });
  }

  pickModel.addEventListener("change", function () { select(runsOf(pickModel.value)[0]); });
  pickRun.addEventListener("change", function () { select(pickRun.value); });
  document.querySelectorAll("[data-show]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.show = b.getAttribute("data-show");
      document.querySelectorAll("[data-show]").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      state.page = 0;
      render();
    });
  });
  document.querySelector("[data-search]").addEventListener("input", function (e) {
    state.q = e.target.value.trim().toLowerCase();
    state.page = 0;
    render();
  });
  window.addEventListener("hashchange", function () {
    var k = EH.params().get("run");
    if (k !== state.run) select(k);
  });
  select(EH.params().get("run"));
})();
