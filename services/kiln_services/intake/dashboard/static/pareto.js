/* Kiln dashboard, a multi-objective campaign (2-4 objectives): the Pareto plot (measured samples,
 * the front highlighted, the pending proposals of the latest batch at their predicted mean with
 * ±1 std error bars, the hypervolume's reference point; with 3-4 objectives a choice of the two
 * axes), the hypervolume against the number of results, and a prediction column per objective
 * for the proposal tables. window.KilnPareto(ctx) returns {draw(report, results, batch),
 * columns}; campaign.js calls it only when the campaign has "objectives". */
(function () {
  "use strict";

  var F = window.KilnFormat;
  var el = F.el;

  function $(id) { return document.getElementById(id); }

  function isLog(spec) { return (spec.transform || "log10") === "log10"; }
  function maximises(spec) { return (spec.goal || "maximize") === "maximize"; }
  function label(spec) { return spec.name + (spec.unit ? " (" + spec.unit + ")" : ""); }
  function value(v, spec) { return F.fmtObj(v, isLog(spec)); }
  function finite(v) { return typeof v === "number" && isFinite(v); }

  // The one-std interval of a prediction in the objective's unit, as the tables print it: for a
  // log10 objective the stored std is ln(10)·mean·s of the model-scale std s.
  function interval(predicted, spec) {
    if (!predicted || !finite(predicted.mean) || !finite(predicted.std)) return null;
    var mean = predicted.mean, std = predicted.std;
    if (!isLog(spec)) return [mean - std, mean + std];
    if (mean <= 0) return null;
    var factor = Math.pow(10, std / (Math.LN10 * mean));
    return [mean / factor, mean * factor];
  }

  // A step of the attainment surface between two front points (sorted by x): the corner is the
  // worse of the two in each objective, whatever the goals.
  function staircase(points, sx, sy) {
    function worse(a, b, spec) { return maximises(spec) ? Math.min(a, b) : Math.max(a, b); }
    var xs = [], ys = [];
    points.forEach(function (p, i) {
      if (i > 0) {
        var q = points[i - 1];
        xs.push(worse(q[0], p[0], sx));
        ys.push(worse(q[1], p[1], sy));
      }
      xs.push(p[0]);
      ys.push(p[1]);
    });
    return { x: xs, y: ys };
  }

  window.KilnPareto = function (ctx) {
    var specs = ctx.campaign.objectives || [];
    var byName = {};
    specs.forEach(function (s) { byName[s.name] = s; });
    var last = { report: null, results: [], batch: null };

    // -- the axes: every objective pair (a selector with 3-4 objectives) ----------------------
    function setupAxes() {
      var xs = $("pareto-x"), ys = $("pareto-y");
      specs.forEach(function (s) { xs.appendChild(el("option", s.name)); ys.appendChild(el("option", s.name)); });
      xs.value = specs[0].name;
      ys.value = specs[1].name;
      $("pareto-axes").hidden = specs.length < 3;
      function changed() { draw(last.report, last.results, last.batch); }
      xs.addEventListener("change", changed);
      ys.addEventListener("change", changed);
    }

    function measuredTrace(results, front, sx, sy) {
      var onFront = {};
      front.forEach(function (p) { onFront[p.sample_id] = true; });
      var pts = results.filter(function (r) {
        var o = r.objectives || {};
        return !onFront[r.sample_id] && finite(o[sx.name]) && finite(o[sy.name]);
      });
      return {
        type: "scatter", mode: "markers", name: "measured (pale: excluded)",
        x: pts.map(function (r) { return r.objectives[sx.name]; }),
        y: pts.map(function (r) { return r.objectives[sy.name]; }),
        text: pts.map(function (r) { return r.sample_id + (r.excluded ? " (excluded)" : ""); }),
        marker: { size: 7, color: pts.map(function (r) { return r.excluded ? "#d3d8df" : "#7d8da1"; }),
                  line: { width: 0.5, color: "#fff" } },
        hovertemplate: "%{text}<br>%{x:.3g}, %{y:.3g}<extra></extra>"
      };
    }

    function frontTraces(front, sx, sy) {
      var pts = front.filter(function (p) {
        var o = p.objectives || {};
        return finite(o[sx.name]) && finite(o[sy.name]);
      }).map(function (p) { return [p.objectives[sx.name], p.objectives[sy.name], p.sample_id]; });
      pts.sort(function (a, b) { return a[0] - b[0]; });
      var traces = [{
        type: "scatter", mode: "markers", name: "Pareto front",
        x: pts.map(function (p) { return p[0]; }), y: pts.map(function (p) { return p[1]; }),
        text: pts.map(function (p) { return p[2]; }),
        marker: { size: 10, color: "#b4451f", line: { width: 1, color: "#fff" } },
        hovertemplate: "%{text} (front)<br>%{x:.3g}, %{y:.3g}<extra></extra>"
      }];
      // With two objectives the front is a staircase; a projection of 3-4 is not.
      if (specs.length === 2 && pts.length > 1) {
        var steps = staircase(pts, sx, sy);
        traces.push({ type: "scatter", mode: "lines", name: "front (attainment)", x: steps.x, y: steps.y,
                      line: { color: "#b4451f", width: 1.5, dash: "dot" }, hoverinfo: "skip", showlegend: false });
      }
      return traces;
    }

    function proposalTrace(batch, sx, sy) {
      var pending = ((batch && batch.proposals) || []).filter(function (p) { return p.status === "pending"; });
      var pts = [];
      pending.forEach(function (p) {
        var px = (p.predicted || {})[sx.name], py = (p.predicted || {})[sy.name];
        var ix = interval(px, sx), iy = interval(py, sy);
        if (!ix || !iy) return;  // a space-filling batch predicts nothing
        pts.push({ id: p.id, x: px.mean, y: py.mean, ix: ix, iy: iy });
      });
      if (!pts.length) return null;
      return {
        type: "scatter", mode: "markers", name: "pending proposal (predicted, ±1 std)",
        x: pts.map(function (p) { return p.x; }), y: pts.map(function (p) { return p.y; }),
        text: pts.map(function (p) { return p.id; }),
        error_x: { type: "data", symmetric: false, array: pts.map(function (p) { return p.ix[1] - p.x; }),
                   arrayminus: pts.map(function (p) { return p.x - p.ix[0]; }), color: "#1f5fa8", thickness: 1 },
        error_y: { type: "data", symmetric: false, array: pts.map(function (p) { return p.iy[1] - p.y; }),
                   arrayminus: pts.map(function (p) { return p.y - p.iy[0]; }), color: "#1f5fa8", thickness: 1 },
        marker: { size: 9, symbol: "diamond-open", color: "#1f5fa8", line: { width: 2 } },
        hovertemplate: "%{text}<br>predicted %{x:.3g}, %{y:.3g}<extra></extra>"
      };
    }

    function referenceTrace(report, sx, sy) {
      var ref = report.reference_point || {}, derived = report.reference_point_derived || {};
      if (!finite(ref[sx.name]) || !finite(ref[sy.name])) return null;
      var which = [sx, sy].filter(function (s) { return derived[s.name]; }).map(function (s) { return s.name; });
      return {
        type: "scatter", mode: "markers",
        name: "reference point" + (which.length ? " (" + which.join(", ") + " derived from the data)" : ""),
        x: [ref[sx.name]], y: [ref[sy.name]],
        marker: { size: 12, symbol: "x-thin-open", color: "#1d2430", line: { width: 2 } },
        hovertemplate: "reference point<br>%{x:.3g}, %{y:.3g}<extra></extra>"
      };
    }

    function drawPlot(report, results, batch) {
      var sx = byName[$("pareto-x").value], sy = byName[$("pareto-y").value];
      if (sx === sy) { $("pareto-note").textContent = "Choose two different objectives."; return; }
      var front = report.front || [];
      var traces = [measuredTrace(results, front, sx, sy)].concat(frontTraces(front, sx, sy));
      var proposed = proposalTrace(batch, sx, sy), ref = referenceTrace(report, sx, sy);
      if (proposed) traces.push(proposed);
      if (ref) traces.push(ref);
      $("pareto-note").textContent = front.length + (front.length === 1 ? " result" : " results") +
        " on the front of " + (report.n_results || 0) + (specs.length > 2 ? "; the front is over all " +
        specs.length + " objectives, so a front point may look dominated in this pair" : "") + ".";
      Plotly.react($("chart-pareto"), traces, ctx.baseLayout({
        xaxis: { title: { text: label(sx) }, type: isLog(sx) ? "log" : "linear", exponentformat: "power", zeroline: false },
        yaxis: { title: { text: label(sy) }, type: isLog(sy) ? "log" : "linear", exponentformat: "power", zeroline: false }
      }), ctx.plotConfig);
    }

    function drawHypervolume(report) {
      var steps = (report.history || []).filter(function (h) { return finite(h.hypervolume); });
      var units = specs.map(function (s) { return (isLog(s) ? "log10 " : "") + (s.unit || "1"); }).join(" × ");
      $("hypervolume-note").textContent = "The volume the front dominates up to the reference point, on the model scale (" +
        units + "), after each post of results; the reference point stays fixed over the history.";
      $("chart-hypervolume").hidden = !steps.length;
      if (!steps.length) return;
      Plotly.react($("chart-hypervolume"), [{
        type: "scatter", mode: "lines+markers", name: "hypervolume",
        x: steps.map(function (h) { return h.n_results; }), y: steps.map(function (h) { return h.hypervolume; }),
        line: { color: "#1d2430", width: 2, shape: "hv" }, marker: { size: 5 },
        hovertemplate: "%{x} results: %{y:.4g}<extra></extra>"
      }], ctx.baseLayout({
        xaxis: { title: { text: "experiments (results)" }, zeroline: false, rangemode: "tozero" },
        yaxis: { title: { text: "hypervolume" }, rangemode: "tozero" }, showlegend: false
      }), ctx.plotConfig);
    }

    // The report (null before any result), the results listed, the latest batch (or null).
    function draw(report, results, batch) {
      last = { report: report, results: results || [], batch: batch };
      var measured = last.results.some(function (r) { return r.objectives && Object.keys(r.objectives).length; });
      $("convergence-empty").hidden = measured;
      $("chart-pareto").hidden = !(report && measured);
      $("fact-best").textContent = report && finite(report.hypervolume) ? String(Number(report.hypervolume.toPrecision(4))) : "–";
      if (!report || !measured) { $("chart-hypervolume").hidden = true; return; }
      drawPlot(report, last.results, batch);
      drawHypervolume(report);
    }

    // One prediction column per objective for the proposal tables: heading and cell text.
    var columns = specs.map(function (s) {
      return {
        label: s.name + (s.unit ? " " + s.unit : "") + " (±1 std)",
        cell: function (p) {
          var predicted = (p.predicted || {})[s.name] || {};
          return F.fmtPrediction(predicted.mean, predicted.std, isLog(s));
        }
      };
    });

    // With outcome constraints: the modelled probability of meeting them all.
    if ((ctx.campaign.outcome_constraints || []).length) {
      columns.push({
        label: "P(meets constraints)",
        cell: function (p) { return finite(p.probability_feasible) ? p.probability_feasible.toFixed(2) : "–"; }
      });
    }

    // One measured column per objective for the results table.
    var measuredColumns = specs.map(function (s) {
      return { label: label(s), cell: function (r) { return value((r.objectives || {})[s.name], s); } };
    });

    setupAxes();
    return { draw: draw, columns: columns, measuredColumns: measuredColumns };
  };
})();
