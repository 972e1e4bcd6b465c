/* Kiln dashboard: constraints, furnace sharing and a batch's groups (issue 17).
 * The words come from the server (state.words, kiln_client.furnace_words); everything here is
 * set as text (textContent), never as HTML. campaign.js and results.js use window.KilnGroups. */
(function () {
  "use strict";

  var F = window.KilnFormat, el = F.el;
  function $(id) { return document.getElementById(id); }

  // The constraints card: one line per constraint and the sharing sentence; hidden when neither.
  function drawWords(words) {
    if (!words) return;
    var lines = words.constraints || [];
    var list = $("constraint-list");
    list.replaceChildren();
    lines.forEach(function (line) {
      var item = el("li");
      item.appendChild(el("code", line));
      list.appendChild(item);
    });
    list.hidden = !lines.length;
    $("sharing-note").textContent = words.sharing || "";
    $("constraints").hidden = !lines.length && !words.sharing;
  }

  // The batch by group when its proposals carry one: {shared: [names], order: [proposals],
  // heads: {index in order: heading}}; null for a batch without groups (shown as today).
  function grouping(items, words) {
    var headings = (words && words.groups) || {};
    if (!items.length || !Object.keys(headings).length) return null;
    if (items.some(function (p) { return p.group === undefined || p.group === null; })) return null;
    var shared = (words.shared || []).slice();  // the campaign's now, not at page load
    var groups = [];
    items.forEach(function (p) { if (groups.indexOf(p.group) < 0) groups.push(p.group); });
    groups.sort(function (a, b) { return a - b; });
    var order = [], heads = {};
    groups.forEach(function (g) {
      var members = items.filter(function (p) { return p.group === g; });
      heads[order.length] = (headings[String(g)] || "Furnace run " + (g + 1)) +
        " · " + members.length + (members.length === 1 ? " pellet" : " pellets");
      order = order.concat(members);
    });
    return { shared: shared, order: order, heads: heads };
  }

  // A heading row spanning the table: one furnace run and the values its pellets share.
  function groupRow(text, columns) {
    var tr = el("tr", null, "group");
    var th = el("th", text);
    th.scope = "rowgroup";
    th.colSpan = columns;
    tr.appendChild(th);
    return tr;
  }

  // A proposal's status; a withdrawn one says why (a PATCH of constraints or ranges, a person).
  function statusCell(p) {
    var cell = el("td");
    cell.appendChild(el("span", p.status, "badge " + p.status));
    if (p.status === "withdrawn" && p.reason) cell.appendChild(el("span", p.reason, "reason"));
    return cell;
  }

  // A result that breaks a constraint: a badge in its sample cell, the flag as its title.
  function markBroken(cell, result) {
    var broken = (result.flags || []).filter(function (f) { return String(f).indexOf("breaks ") === 0; });
    if (!broken.length) return;
    var short = broken.map(function (f) { return String(f).split(" (")[0]; });  // breaks constraints.0
    var mark = el("span", short.join(", "), "badge broken");
    mark.title = broken.join("; ");
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(mark);
  }

  window.KilnGroups = { drawWords: drawWords, grouping: grouping, groupRow: groupRow,
                        statusCell: statusCell, markBroken: markBroken };
})();
