/* Kiln dashboard: the campaign's results table, the suspects the model points at, a result's
 * history, and "exclude…"/"include…" with a reason. A correction is a form post to the
 * dashboard (with the page's CSRF token) that the server forwards as the API's PATCH with the
 * session's token; nothing is ever excluded without a person asking.
 * window.KilnResults(ctx) returns {draw(results, suspects)}; campaign.js calls it on each change. */
(function () {
  "use strict";

  var F = window.KilnFormat;
  var el = F.el, fmtTime = F.fmtTime, fmtNum = F.fmtNum;
  var SHOWN = 500;

  function $(id) { return document.getElementById(id); }

  // Results at the same parameters: a key per parameter set, and the sample ids sharing it.
  function replicateGroups(results, names) {
    var groups = {};
    results.forEach(function (r) {
      var key = JSON.stringify(names.map(function (n) { return (r.parameters || {})[n]; }));
      (groups[key] = groups[key] || []).push(r.sample_id);
    });
    return function (r) {
      return groups[JSON.stringify(names.map(function (n) { return (r.parameters || {})[n]; }))] || [];
    };
  }

  function changesText(changes) {
    return Object.keys(changes || {}).map(function (field) {
      var c = changes[field] || {};
      return field + ": " + fmtNum(c.from) + " → " + fmtNum(c.to);
    }).join("; ");
  }

  function etag(r) { return '"' + r.sample_id + ":" + (r.revision || 0) + '"'; }

  window.KilnResults = function (ctx) {
    var cid = ctx.cid, campaign = ctx.campaign, getJSON = ctx.getJSON, fmtObj = ctx.fmtObj;
    var names = (campaign.parameters || []).map(function (p) { return p.name; });
    var csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");
    var historyOf = null;  // the sample whose history is open
    // The measured columns: the objective, or one per objective (ctx.objectiveColumns).
    var measured = ctx.objectiveColumns || [{ label: ctx.objLabel, cell: function (r) { return fmtObj(r.objective); } }];

    function resultUrl(base, sampleId) {
      return base + "/campaigns/" + cid + "/results/" + encodeURIComponent(sampleId);
    }

    function showHistory(sampleId) {
      historyOf = sampleId;
      return getJSON(resultUrl("/ui/api", sampleId)).then(drawHistory).catch(function (err) {
        $("history-note").textContent = "No history for " + sampleId + ": " + err.message;
        $("history").hidden = false;
      });
    }

    function drawHistory(view) {
      var section = $("history");
      section.hidden = false;
      $("history-title").textContent = "History of " + view.sample_id;
      var revisions = view.revisions || [];
      $("history-note").textContent = (view.excluded ? "Excluded from training" : "Used for training") +
        " · revision " + (view.revision || 0) + " · " + objectiveText(view) + " · received " +
        fmtTime(view.received_at) + (revisions.length ? "" : " · never corrected: as posted.");
      var table = $("table-history");
      table.replaceChildren();
      if (!revisions.length) return;
      table.appendChild(F.thead(["revision", "at", "by", "reason", "changes"]));
      var body = el("tbody");
      revisions.forEach(function (r) {
        var row = el("tr");
        row.appendChild(el("td", r.revision, "num"));
        row.appendChild(el("td", fmtTime(r.at), "time"));
        row.appendChild(el("td", r.by));
        row.appendChild(el("td", r.reason, "reason"));
        row.appendChild(el("td", changesText(r.changes)));
        body.appendChild(row);
      });
      table.appendChild(body);
      section.scrollIntoView({ block: "nearest" });
    }

    function objectiveText(view) {
      var values = ctx.objectiveColumns
        ? measured.map(function (c) { return c.label + " " + c.cell(view); }).join(", ")
        : (ctx.objectiveName || "objective") + " " + fmtObj(view.objective);
      return values + " (" + (view.status || "ok") + ")";
    }

    // Ask why, then send it; the table and the open history are redrawn from the server's answer.
    function setExcluded(r, excluded) {
      var verb = excluded ? "exclude" : "include";
      var reason = window.prompt("Why " + verb + " " + r.sample_id + "? (kept in its history)", "");
      if (reason === null) return Promise.resolve();
      if (!reason.trim()) { $("results-note").textContent = "Nothing changed: a reason is required."; return Promise.resolve(); }
      var form = new URLSearchParams({ csrf: csrf, excluded: String(excluded), reason: reason, if_match: etag(r) });
      return fetch(resultUrl("/ui", r.sample_id) + "/excluded", {
        method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (answer) {
        return answer.json().catch(function () { return {}; }).then(function (body) {
          if (answer.status === 412) {  // corrected meanwhile: show where it is now, then say so
            return ctx.reload().then(function () { throw new Error(body.detail || "corrected meanwhile"); });
          }
          if (!answer.ok) throw new Error((body && body.detail) || ("HTTP " + answer.status));
          return ctx.reload().then(function () {
            $("results-note").textContent = r.sample_id + " " + verb + "d (revision " + body.revision + "); the model refits.";
            if (historyOf === r.sample_id) drawHistory(body);
          });
        });
      }).catch(function (err) {
        $("results-note").textContent = "Could not " + verb + " " + r.sample_id + ": " + err.message;
      });
    }

    function actionButton(r) {
      var excluded = !!r.excluded;
      var button = el("button", excluded ? "include…" : "exclude…", "small " + (excluded ? "include" : "exclude"));
      button.type = "button";
      button.setAttribute("aria-label", (excluded ? "Include " : "Exclude ") + r.sample_id + " (asks for a reason)");
      button.addEventListener("click", function () { setExcluded(r, !excluded); });
      return button;
    }

    function historyButton(r) {
      var button = el("button", String(r.revision || 0), "small history");
      button.type = "button";
      button.title = "Show the revisions of " + r.sample_id;
      button.setAttribute("aria-label", "History of " + r.sample_id + " (revision " + (r.revision || 0) + ")");
      button.addEventListener("click", function () { showHistory(r.sample_id); });
      return button;
    }

    function drawSuspects(results, suspects) {
      var byId = {};
      results.forEach(function (r) { byId[r.sample_id] = r; });
      var list = $("suspect-list");
      list.replaceChildren();
      var open = suspects.filter(function (s) { return byId[s.sample_id]; });
      $("suspects").hidden = !open.length;
      open.forEach(function (s) {
        var r = byId[s.sample_id], item = el("li");
        item.appendChild(el("code", s.sample_id));
        item.appendChild(document.createTextNode(" residual " + Number(s.residual).toFixed(1) + " "));
        item.appendChild(r.excluded ? el("span", "excluded", "badge") : actionButton(r));
        list.appendChild(item);
      });
    }

    function header(table) {
      var k = measured.length;
      var labels = ["#", "sample"].concat(names, measured.map(function (c) { return c.label; }),
        ["replicates", "status", "revision", "", "proposal", "received"]);
      var numeric = function (i) { return i === 0 || (i >= 2 && i < 3 + names.length + k) || i === 4 + names.length + k; };
      table.appendChild(F.thead(labels, function (i) { return numeric(i) ? "num" : ""; }));
    }

    function row(r, number, group, suspect) {
      var tr = el("tr", null, r.excluded ? "excluded" : "");
      tr.setAttribute("data-sample", r.sample_id);
      tr.appendChild(el("td", number, "num"));
      var sample = el("td", null, "mono");
      sample.appendChild(el("span", r.sample_id));
      if (suspect) {
        var mark = el("span", "suspect " + Number(suspect.residual).toFixed(1), "badge suspect");
        mark.title = "leave-one-out standardised residual: the other results predict it badly";
        sample.appendChild(document.createTextNode(" "));
        sample.appendChild(mark);
      }
      window.KilnGroups.markBroken(sample, r);
      tr.appendChild(sample);
      names.forEach(function (n) { tr.appendChild(el("td", fmtNum((r.parameters || {})[n]), "num")); });
      measured.forEach(function (c) { tr.appendChild(el("td", c.cell(r), "num")); });
      var reps = el("td", group.length > 1 ? "×" + group.length : "", "num replicates");
      if (group.length > 1) reps.title = "same parameters: " + group.join(", ");
      tr.appendChild(reps);
      tr.appendChild(el("td", (r.status || "ok") + (r.excluded ? " · excluded" : "")));
      var rev = el("td", null, "num keep");
      rev.appendChild(historyButton(r));
      tr.appendChild(rev);
      var act = el("td", null, "keep");
      act.appendChild(actionButton(r));
      tr.appendChild(act);
      tr.appendChild(el("td", r.proposal_id || r.matched_proposal_id ? "yes" : ""));
      tr.appendChild(el("td", fmtTime(r.received_at), "time"));
      return tr;
    }

    // Newest first, but replicates together: each group sits where its newest member is.
    function ordered(results, groupOf) {
      var newest = results.slice(-SHOWN).reverse(), seen = {}, out = [];
      newest.forEach(function (r) {
        var key = groupOf(r).join("\u0000");
        if (seen[key]) return;
        seen[key] = true;
        var members = newest.filter(function (m) { return groupOf(m).join("\u0000") === key; });
        out = out.concat(members);
      });
      return out;
    }

    function draw(results, suspects) {
      var table = $("table-results");
      table.replaceChildren();
      header(table);
      var groupOf = replicateGroups(results, names);
      var suspectOf = {};
      (suspects || []).forEach(function (s) { suspectOf[s.sample_id] = s; });
      var index = {};
      results.forEach(function (r, i) { index[r.sample_id] = i + 1; });
      var body = el("tbody");
      var shown = ordered(results, groupOf);
      shown.forEach(function (r) { body.appendChild(row(r, index[r.sample_id], groupOf(r), suspectOf[r.sample_id])); });
      table.appendChild(body);
      drawSuspects(results, suspects || []);
      var excluded = results.filter(function (r) { return r.excluded; }).length;
      $("results-note").textContent = (results.length > shown.length
        ? "Showing the newest " + shown.length + " of " + results.length + " results"
        : results.length + " results, newest first") + ", replicates together" +
        (excluded ? "; " + excluded + " excluded (struck through)." : ".");
      if (historyOf !== null && index[historyOf]) showHistory(historyOf);
    }

    return { draw: draw };
  };
})();
