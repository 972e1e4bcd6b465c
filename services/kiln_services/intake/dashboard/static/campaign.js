/* Kiln dashboard, one campaign: charts and tables drawn from the API, refreshed while it runs.
 * Reads go through the same-origin relay (/ui/...) that adds the session's token server-side. */
(function () {
  "use strict";

  var campaign = JSON.parse(document.getElementById("campaign-data").textContent);
  var cid = encodeURIComponent(campaign.id);
  var POLL_MS = 4000;
  // A multi-objective campaign (2-4 "objectives", no "objective"): pareto.js draws its charts.
  var moo = (campaign.objectives || []).length > 1;
  var objective = campaign.objective || {};
  var logScale = (objective.transform || "log10") === "log10";
  var maximise = (objective.goal || "maximize") === "maximize";
  var objLabel = (objective.name || "objective") + (objective.unit ? " (" + objective.unit + ")" : "");
  var predictedLabel = "predicted" + (objective.unit ? " " + objective.unit : "") + " (±1 std)";
  var plotConfig = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var font = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1d2430" };
  var seen = { results: -1, batch: null, model: null, sliceKey: null };
  var results = [];
  var latestBatch = null, paretoReport = null;
  var suspects = [];  // the model's: [{sample_id, residual}], never excluded without a person

  function $(id) { return document.getElementById(id); }

  var F = window.KilnFormat, G = window.KilnGroups;
  var el = F.el, idCell = F.idCell, fmtTime = F.fmtTime, fmtNum = F.fmtNum, fmtAcquisitions = F.fmtAcquisitions;
  function fmtObj(v) { return F.fmtObj(v, logScale); }
  function fmtPrediction(mean, std) { return F.fmtPrediction(mean, std, logScale); }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) {
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
          throw new Error("signed out");
        }
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((body && body.detail) || ("HTTP " + r.status));
          return body;
        });
      });
  }

  function setStatus(text, cls) {
    var s = $("status");
    s.textContent = text;
    s.className = "status " + (cls || "");
  }

  function baseLayout(extra) {
    var layout = {
      font: font, margin: { l: 70, r: 20, t: 10, b: 50 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      legend: { orientation: "h", y: -0.2 }, hovermode: "closest"
    };
    return Object.assign(layout, extra || {});
  }

  // -- results and the convergence chart (the study's Figure 4) ---------------------------------

  function loadResults() {
    var all = [];
    function page(offset) {
      return getJSON("/ui/api/campaigns/" + cid + "/results?limit=1000&offset=" + offset).then(function (body) {
        all = all.concat(body.items || []);
        if (body.next && (body.items || []).length) return page(offset + body.items.length);
        return all;
      });
    }
    return page(0).then(function (items) {
      results = items;
      drawResults();
      return moo ? loadPareto() : drawConvergence();
    });
  }

  var pareto = moo ? window.KilnPareto({ campaign: campaign, baseLayout: baseLayout, plotConfig: plotConfig }) : null;
  // The prediction columns of the proposal tables: one, or one per objective.
  var predictionColumns = pareto ? pareto.columns : [{
    label: predictedLabel, cell: function (p) { return fmtPrediction(p.predicted_mean, p.predicted_std); }
  }];

  var table = window.KilnResults({
    cid: cid, campaign: campaign, getJSON: getJSON, fmtObj: fmtObj, objLabel: objLabel,
    objectiveName: objective.name, reload: loadResults,
    objectiveColumns: pareto ? pareto.measuredColumns : null
  });
  function drawResults() { table.draw(results, suspects); }

  // The front, reference point and hypervolume history (GET /pareto), read when results change.
  function loadPareto() {
    return getJSON("/ui/api/campaigns/" + cid + "/pareto")
      .then(function (report) { paretoReport = report; })
      .catch(function (err) { paretoReport = null; $("pareto-note").textContent = "No Pareto report: " + err.message; })
      .then(function () { pareto.draw(paretoReport, results, latestBatch); });
  }

  function drawConvergence() {
    var scored = results.filter(function (r) { return r.objective !== null && r.objective !== undefined; });
    var x = [], y = [], text = [], colors = [], bestY = [], best = null;
    scored.forEach(function (r, i) {
      x.push(i + 1);
      y.push(r.objective);
      text.push(r.sample_id + (r.proposal_id || r.matched_proposal_id ? " (proposed)" : ""));
      colors.push(r.excluded ? "#d3d8df" : r.proposal_id || r.matched_proposal_id ? "#b4451f" : "#7d8da1");
      if (r.excluded) text[i] += " (excluded)";
      else if (best === null || (maximise ? r.objective > best : r.objective < best)) best = r.objective;
      bestY.push(best);
    });
    $("fact-best").textContent = best === null ? "–" : fmtObj(best) + (objective.unit ? " " + objective.unit : "");
    // Nothing measured yet: say how to post results instead of drawing empty axes.
    $("convergence-empty").hidden = scored.length > 0;
    $("chart-convergence").hidden = !scored.length;
    if (!scored.length) return;
    var traces = [
      { type: "scatter", mode: "markers", name: "sample (grey: given, orange: proposed, pale: excluded)", x: x, y: y, text: text,
        marker: { color: colors, size: 7, line: { width: 0.5, color: "#fff" } },
        hovertemplate: "#%{x} %{text}<br>%{y:.3e}<extra></extra>" },
      { type: "scatter", mode: "lines", name: "best so far", x: x, y: bestY, line: { color: "#1d2430", width: 2, shape: "hv" },
        hovertemplate: "best after %{x}: %{y:.3e}<extra></extra>" }
    ];
    Plotly.react($("chart-convergence"), traces, baseLayout({
      xaxis: { title: { text: "sample (in order measured)" }, zeroline: false },
      yaxis: { title: { text: objLabel }, type: logScale ? "log" : "linear", exponentformat: "power" }
    }), plotConfig);
  }

  // -- the latest batch -------------------------------------------------------------------------

  function drawBatch(batch, words) {
    var table = $("table-batch");
    table.replaceChildren();
    if (!batch) { $("batch-note").textContent = "No batch yet: one follows the first results."; return; }
    var items = batch.proposals || [];
    var pending = items.filter(function (p) { return p.status === "pending"; }).length;
    $("batch-note").textContent = "Batch " + batch.batch_id + " · proposed " + fmtTime(batch.created_at) +
      " · " + batch.acquisition + "/" + batch.batch_method + " · model v" + fmtNum(batch.model_version) +
      ", data v" + batch.data_version + " · " + pending + " of " + items.length + " pending" +
      (batch.fallback ? " · " + batch.fallback : "");
    // Furnace groups: a heading row per run with its shared values, then its pellets.
    var grouped = G.grouping(items, words);
    if (grouped) items = grouped.order;
    var names = (items.length ? Object.keys(items[0].parameters) : []).filter(function (n) {
      return !grouped || grouped.shared.indexOf(n) < 0;
    });
    var head = el("thead"), tr = el("tr");
    var predictedLabels = predictionColumns.map(function (c) { return c.label; });
    ["proposal", "status"].concat(names, predictedLabels, ["acquisition"]).forEach(function (h, i) {
      var th = el("th", h, i >= 2 ? "num" : "");
      th.scope = "col";
      tr.appendChild(th);
    });
    head.appendChild(tr);
    table.appendChild(head);
    var body = el("tbody");
    var acquisitions = fmtAcquisitions(items.map(function (p) { return p.acquisition_value; }));
    items.forEach(function (p, k) {
      if (grouped && grouped.heads[k]) body.appendChild(G.groupRow(grouped.heads[k], names.length + 3 + predictionColumns.length));
      var row = el("tr");
      row.appendChild(idCell(p.id));
      row.appendChild(G.statusCell(p));
      names.forEach(function (n) { row.appendChild(el("td", fmtNum(p.parameters[n]), "num")); });
      predictionColumns.forEach(function (c) { row.appendChild(el("td", c.cell(p), "num")); });
      row.appendChild(el("td", acquisitions[k], "num"));
      body.appendChild(row);
    });
    table.appendChild(body);
  }

  // Pending proposals of earlier batches only: the latest batch's are in its table, with status.
  function drawPending(page, latest) {
    var section = $("pending");
    var inLatest = {};
    ((latest && latest.proposals) || []).forEach(function (p) { inLatest[p.id] = true; });
    var items = ((page && page.items) || []).filter(function (p) { return !inLatest[p.id]; });
    var table = $("table-pending");
    table.replaceChildren();
    section.hidden = !items.length;
    if (!items.length) return;
    $("pending-note").textContent = items.length + (items.length === 1 ? " proposal" : " proposals") +
      " of earlier batches still waiting for a result (oldest first; an id ends with its batch's).";
    var names = Object.keys(items[0].parameters || {});
    var head = el("thead"), tr = el("tr");
    var predictedLabels = predictionColumns.map(function (c) { return c.label; });
    ["proposal"].concat(names, predictedLabels, ["proposed", "expires"]).forEach(function (h, i) {
      var th = el("th", h, i >= 1 && i < 1 + names.length + predictedLabels.length ? "num" : "");
      th.scope = "col";
      tr.appendChild(th);
    });
    head.appendChild(tr);
    table.appendChild(head);
    var body = el("tbody");
    items.forEach(function (p) {
      var row = el("tr");
      row.appendChild(idCell(p.id));
      names.forEach(function (n) { row.appendChild(el("td", fmtNum(p.parameters[n]), "num")); });
      predictionColumns.forEach(function (c) { row.appendChild(el("td", c.cell(p), "num")); });
      row.appendChild(el("td", fmtTime(p.created_at), "time"));
      row.appendChild(el("td", fmtTime(p.expires_at), "time"));
      body.appendChild(row);
    });
    table.appendChild(body);
  }

  // -- model slices (the study's Figure 2) ------------------------------------------------------

  // A point a fraction f along a parameter's range: geometric on a log scale, as the model sees it.
  function between(p, f) {
    return p.scale === "log" ? p.low * Math.pow(p.high / p.low, f) : p.low + (p.high - p.low) * f;
  }

  function isLogParameter(name) {
    return (campaign.parameters || []).some(function (p) { return p.name === name && p.scale === "log"; });
  }

  function candidates(p) {
    if (p.kind === "categorical" || p.kind === "discrete") return (p.values || []).slice();
    var n = p.step ? Math.floor((p.high - p.low) / p.step + 1e-9) + 1 : 11;
    var stride = n > 61 ? Math.ceil(n / 61) : 1, out = [];
    for (var i = 0; i < n; i += stride) {
      out.push(p.step ? Number((p.low + i * p.step).toFixed(9)) : Number(between(p, i / (n - 1)).toPrecision(6)));
    }
    return out;
  }

  function buildFixedControls() {
    var box = $("slice-fixed");
    box.replaceChildren();
    var x = $("slice-x").value, y = $("slice-y").value;
    (campaign.parameters || []).forEach(function (p) {
      if (p.name === x || p.name === y) return;
      var label = el("label", p.name + " ");
      var select = el("select");
      select.setAttribute("data-name", p.name);
      var auto = el("option", "as best sample");
      auto.value = "";
      select.appendChild(auto);
      candidates(p).forEach(function (v) { var o = el("option", fmtNum(v)); o.value = String(v); select.appendChild(o); });
      select.addEventListener("change", function () { seen.sliceKey = null; loadSlice(); });
      label.appendChild(select);
      box.appendChild(label);
    });
  }

  function setupSliceControls() {
    var names = (campaign.parameters || []).map(function (p) { return p.name; });
    var xs = $("slice-x"), ys = $("slice-y");
    names.forEach(function (n) { xs.appendChild(el("option", n)); ys.appendChild(el("option", n)); });
    xs.value = names[0];
    ys.value = names[1] || names[0];
    function changed() { seen.sliceKey = null; buildFixedControls(); loadSlice(); }
    xs.addEventListener("change", changed);
    ys.addEventListener("change", changed);
    // Several objectives: the slice shows the chosen one's model (the first by default).
    if ($("slice-objective")) $("slice-objective").addEventListener("change", changed);
    buildFixedControls();
    return names.length >= 2;
  }

  function loadSlice() {
    var x = $("slice-x").value, y = $("slice-y").value;
    if (x === y) { $("slice-note").textContent = "Choose two different parameters."; return Promise.resolve(); }
    var query = new URLSearchParams({ x: x, y: y });
    if ($("slice-objective")) query.set("objective", $("slice-objective").value);
    Array.prototype.forEach.call($("slice-fixed").querySelectorAll("select"), function (sel) {
      if (sel.value !== "") query.set("fixed." + sel.getAttribute("data-name"), sel.value);
    });
    var key = query.toString() + "|" + seen.model;
    if (key === seen.sliceKey) return Promise.resolve();
    seen.sliceKey = key;
    return getJSON("/ui/api/campaigns/" + cid + "/model/slice?" + query.toString())
      .then(function (body) { drawSlice(body.slice || body); })
      .catch(function (err) { $("slice-note").textContent = "No slice: " + err.message; });
  }

  function drawSlice(s) {
    var fixed = s.fixed || {};
    $("slice-held").textContent = Object.keys(fixed).length
      ? "Others held at " + Object.keys(fixed).map(function (k) { return k + " = " + fmtNum(fixed[k]); }).join(", ") + "; circles: measured on this slice, crosses: measured elsewhere."
      : "";
    $("slice-note").textContent = "";
    var xv = s.x.values, yv = s.y.values;
    var axisTitle = function (a) {
      var notes = (a.unit ? [a.unit] : []).concat(isLogParameter(a.name) ? ["log scale"] : []);
      return a.name + (notes.length ? " (" + notes.join(", ") + ")" : "");
    };
    var axis = function (a) { return isLogParameter(a.name) ? { title: { text: axisTitle(a) }, type: "log" } : { title: { text: axisTitle(a) } }; };
    // The objective the slice is of (one of several, or the campaign's own).
    var sObj = s.objective || objective;
    var sLog = (sObj.transform || "log10") === "log10";
    var sLabel = (sObj.name || "objective") + (sObj.unit ? " (" + sObj.unit + ")" : "");
    var mean = s.mean, std = s.std || [];
    var meanTitle = "predicted " + sLabel;
    var stdTitle = "uncertainty (std) of " + sLabel;
    if (sLog) {
      mean = s.mean.map(function (row) { return row.map(function (v) { return v > 0 ? Math.log10(v) : null; }); });
      meanTitle = "log10 predicted " + (sObj.name || "objective");
      // The model's std on its own scale (decades): the stored std is ln(10)·mean·s.
      std = std.map(function (row, j) {
        return row.map(function (v, i) { var m = s.mean[j][i]; return v !== null && m > 0 ? v / (Math.LN10 * m) : null; });
      });
      stdTitle = "uncertainty (std) of log10 " + (sObj.name || "objective");
    }
    var obs = s.observations || [];
    function points(onSlice) {
      var pts = obs.filter(function (o) { return !!o.on_slice === onSlice; });
      return {
        type: "scatter", mode: "markers", name: onSlice ? "measured on this slice" : "measured elsewhere",
        x: pts.map(function (o) { return o.x; }), y: pts.map(function (o) { return o.y; }),
        text: pts.map(function (o) { return F.fmtObj(o.objective, sLog); }),
        hovertemplate: "%{x}, %{y}: %{text}<extra></extra>",
        marker: onSlice ? { color: "#fff", size: 8, line: { color: "#1d2430", width: 1.5 } }
                        : { color: "rgba(29,36,48,0.35)", size: 5, symbol: "x" }
      };
    }
    var layout = function (title) {
      return baseLayout({
        margin: { l: 70, r: 10, t: 30, b: 50 }, title: { text: title, font: { size: 13 } },
        xaxis: axis(s.x), yaxis: axis(s.y), showlegend: false
      });
    };
    Plotly.react($("chart-slice-mean"), [
      { type: "heatmap", x: xv, y: yv, z: mean, colorscale: "Viridis", colorbar: { title: { text: sLog ? "log10" : "" } },
        hovertemplate: "%{x}, %{y}: %{z:.3f}<extra></extra>" },
      points(true), points(false)
    ], layout(meanTitle), plotConfig);
    Plotly.react($("chart-slice-std"), [
      { type: "heatmap", x: xv, y: yv, z: std, colorscale: [[0, "#f4f8fc"], [0.5, "#6b9bc8"], [1, "#0b2f5b"]],
        colorbar: { title: { text: sLog ? "decades" : "" } },
        hovertemplate: "%{x}, %{y}: ±%{z:.3f}<extra></extra>" },
      points(true), points(false)
    ], layout(stdTitle), plotConfig);
    if (!$("chart-slice-acq") || s.acquisition === null) return;  // one objective of several
    Plotly.react($("chart-slice-acq"), [
      { type: "heatmap", x: xv, y: yv, z: s.acquisition, colorscale: "Cividis",
        hovertemplate: "%{x}, %{y}: %{z:.3f}<extra></extra>" },
      points(true), points(false)
    ], layout("acquisition (" + (s.acquisition_name || (campaign.strategy || {}).acquisition || "") + ")"), plotConfig);
  }

  // -- virtual experiments (the study's Figure 3): benchmarks.js -------------------------------

  var loadBenchmark = window.KilnBenchmarks({ cid: cid, getJSON: getJSON, baseLayout: baseLayout, plotConfig: plotConfig });

  // -- the refresh loop -------------------------------------------------------------------------

  var sliceOk = setupSliceControls();

  function refresh() {
    if (document.hidden) {  // a background tab: look again when it is shown
      window.setTimeout(refresh, POLL_MS);
      return Promise.resolve();
    }
    return getJSON("/ui/campaigns/" + cid + "/state").then(function (state) {
      var c = state.campaign || {}, counts = c.counts || {};
      $("fact-results").textContent = counts.results || 0;
      $("fact-pending").textContent = counts.proposals_pending || 0;
      $("fact-model").textContent = counts.model_version ? "v" + counts.model_version : "none yet";
      $("fact-space").textContent = "v" + (c.space_version || 1);
      var work = [];
      // A correction changes no count but the data the model was fitted on: reload after a refit.
      var found = (state.model && state.model.summary && state.model.summary.suspects) || [];
      var resultsKey = counts.results + "|" + (state.model ? state.model.data_version : "-");
      if (resultsKey !== seen.results) {
        seen.results = resultsKey;
        suspects = found;
        work.push(loadResults());
      }
      var batchKey = state.etag || null;
      G.drawWords(state.words);
      if (batchKey !== seen.batch) {
        seen.batch = batchKey;
        latestBatch = state.latest;
        drawBatch(state.latest, state.words);
        if (moo && resultsKey === seen.results && !work.length) pareto.draw(paretoReport, results, latestBatch);
      }
      drawPending(state.pending, state.latest);
      seen.model = state.model ? state.model.model_version : null;
      if (!state.features.slice) {
        $("slice-note").textContent = "This server has no model slice endpoint.";
        $("slice-controls").hidden = true;
      } else if (!sliceOk) {
        $("slice-note").textContent = "A slice needs two parameters.";
      } else if (!state.model) {
        $("slice-note").textContent = "No model yet: slices appear after the first fit.";
      } else {
        work.push(loadSlice());
      }
      if (!moo) work.push(loadBenchmark());  // no virtual experiments with several objectives
      return Promise.all(work);
    }).then(function () {
      setStatus("Live · updated " + new Date().toLocaleTimeString(), "live");
    }).catch(function (err) {
      setStatus("Not updated: " + err.message + " (retrying)", "stale");
    }).then(function () {
      window.setTimeout(refresh, POLL_MS);
    });
  }

  refresh();
})();
