/* Kiln dashboard: the campaign's virtual-experiment jobs (the study's Figure 3). The job shown is
 * ?benchmark=<id> when given, else the newest finished one; the list links every recent job.
 * window.KilnBenchmarks(ctx) returns the loader campaign.js calls on each refresh. */
(function () {
  "use strict";

  var F = window.KilnFormat;
  var el = F.el, fmtTime = F.fmtTime;
  var palette = { ucb: "#b4451f", ei: "#1f5fa8", pi: "#6a3d9a", random: "#5a6472" };

  function $(id) { return document.getElementById(id); }

  window.KilnBenchmarks = function (ctx) {
    var cid = ctx.cid, getJSON = ctx.getJSON, baseLayout = ctx.baseLayout, plotConfig = ctx.plotConfig;
    var shown = null;  // the id of the job drawn (or failed), so it is not fetched again

    // The job shown: ?benchmark=<id> when given, else the newest finished one of the campaign.
    function loadBenchmark() {
      var asked = new URLSearchParams(window.location.search).get("benchmark");
      return getJSON("/ui/api/campaigns/" + cid + "/benchmarks?limit=20").then(function (page) {
        var jobs = page.items || [];
        drawBenchmarkList(jobs, page.total || jobs.length, asked);
        if (asked) return showJob(asked);
        var finished = jobs.filter(function (j) { return j.state === "done"; })[0];
        var running = jobs.filter(function (j) { return j.state === "queued" || j.state === "running"; })[0];
        if (finished) showDone(finished);
        else if (running) benchProgress(running);
      }).catch(function (err) {  // an older server without the listing: only ?benchmark= works
        if (asked) return showJob(asked);
        $("bench-note").textContent = "Virtual experiments: " + err.message;
      });
    }

    function showJob(jid) {
      $("benchmark-id").value = jid;
      if (shown === jid) return Promise.resolve();
      return getJSON("/ui/api/jobs/" + encodeURIComponent(jid)).then(function (job) {
        if (job.state === "failed") { $("bench-note").textContent = "Job " + jid + " failed: " + job.error; shown = jid; return; }
        if (job.state !== "done") { benchProgress(job); return; }
        showDone(job);
      }).catch(function (err) { $("bench-note").textContent = "Benchmark " + jid + ": " + err.message; shown = jid; });
    }

    function showDone(job) {
      if (shown === job.id) return;
      shown = job.id;
      drawBenchmark(job.result || {}, job);
    }

    function benchProgress(job) {
      var p = job.progress || {};
      $("bench-note").textContent = "Job " + job.id + " " + job.state +
        (p.chunks_total ? ": " + p.chunks_done + " of " + p.chunks_total + " chunks done" : "") + "…";
    }

    function drawBenchmarkList(jobs, total, asked) {
      var list = $("bench-list");
      list.replaceChildren();
      list.hidden = !jobs.length;
      jobs.forEach(function (job) {
        var item = el("li");
        var link = el("a", job.id, "mono");
        link.href = "?benchmark=" + encodeURIComponent(job.id);
        if (job.id === asked) link.setAttribute("aria-current", "true");
        item.appendChild(link);
        var params = job.params || {};
        item.appendChild(el("span", " · " + job.state + " · started " + fmtTime(job.created_at) +
          (params.strategies ? " · " + params.strategies.join(", ") : "") +
          (params.repeats ? " · " + params.repeats + " repeats" : "")));
        list.appendChild(item);
      });
      if (total > jobs.length) list.appendChild(el("li", "… and " + (total - jobs.length) + " older"));
    }

    function drawBenchmark(result, job) {
      var table = result.table || {};
      var traces = [];
      Object.keys(table).forEach(function (strategy) {
        var ns = Object.keys(table[strategy]).map(Number).sort(function (a, b) { return a - b; });
        var rows = ns.map(function (n) { return table[strategy][String(n)]; });
        var color = palette[strategy] || "#333";
        traces.push({
          type: "scatter", mode: "lines+markers", name: strategy.toUpperCase() + " extra tries", x: ns,
          y: rows.map(function (r) { return r.mean_extra_tries; }), line: { color: color },
          text: rows.map(function (r) { return r.found + "/" + r.runs + " found the best"; }),
          hovertemplate: "n=%{x}: %{y:.1f} extra tries (%{text})<extra>" + strategy + "</extra>"
        });
        traces.push({
          type: "scatter", mode: "lines", name: strategy.toUpperCase() + " % found", x: ns, yaxis: "y2",
          y: rows.map(function (r) { return r.runs ? 100 * r.found / r.runs : null; }),
          line: { color: color, dash: "dot", width: 1.5 }, hovertemplate: "n=%{x}: %{y:.0f}% found<extra>" + strategy + "</extra>"
        });
      });
      $("bench-note").textContent = "Job " + job.id + " (finished " + fmtTime(job.finished_at) + "): on " + result.pool_size + " results, " + result.repeats +
        " repeats per strategy and n: mean extra tries until the best sample was picked (solid) and the share of runs that found it (dotted).";
      $("chart-bench").hidden = false;
      Plotly.react($("chart-bench"), traces, baseLayout({
        margin: { l: 70, r: 60, t: 10, b: 50 },
        xaxis: { title: { text: "initial samples n" } },
        yaxis: { title: { text: "mean extra tries" }, rangemode: "tozero" },
        yaxis2: { title: { text: "% of runs that found the best" }, overlaying: "y", side: "right", range: [0, 100], dtick: 20, showgrid: false }
      }), plotConfig);
    }

    return loadBenchmark;
  };
})();
