/* Kiln dashboard: how ids, times and numbers read (the campaign page's tables and notes).
 * No state: each function takes what it formats; campaign.js uses them through window.KilnFormat. */
(function () {
  "use strict";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  // A whole id (reporting a result needs it) and a button that copies it.
  function idCell(id) {
    var text = id === null || id === undefined ? "" : String(id);
    var td = el("td"), box = el("span", null, "idbox");
    box.appendChild(el("code", text));
    var button = el("button", "Copy", "copy");
    button.type = "button";
    button.setAttribute("aria-label", "Copy proposal id " + text);
    button.addEventListener("click", function () { copyText(text, button); });
    box.appendChild(button);
    td.appendChild(box);
    return td;
  }

  function copyText(text, button) {
    function done(ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      button.classList.toggle("copied", ok);
      window.setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 4000);
    }
    function fallback() {  // no clipboard API (plain http on another host): a selected textarea
      var area = el("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  // Local time to the minute, ISO-like: 2026-11-30 14:05.
  function fmtTime(iso) {
    if (!iso) return "–";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  // The one-std interval on the model's scale: mean ÷/× 10^s for log10 (the stored std is
  // ln(10)·mean·s), mean ± std otherwise.
  function fmtPrediction(mean, std, logScale) {
    if (mean === null || mean === undefined) return "–";
    if (std === null || std === undefined) return fmtObj(mean, logScale);
    if (!logScale) return fmtObj(mean, logScale) + " ± " + Number(std).toPrecision(2);
    if (mean <= 0) return fmtObj(mean, logScale);
    var factor = Math.pow(10, std / (Math.LN10 * mean));
    return (mean / factor).toExponential(1) + " – " + (mean * factor).toExponential(1);
  }

  // Acquisition values of one batch: 3 significant digits; below 1e-6 of the largest, "≈0".
  function fmtAcquisitions(values) {
    var finite = values.filter(function (v) { return typeof v === "number" && isFinite(v); });
    var top = finite.length ? Math.max.apply(null, finite) : 0;
    return values.map(function (v) {
      if (typeof v !== "number" || !isFinite(v)) return "–";
      if (top > 0 && v >= 0 && v < 1e-6 * top) return "≈0";
      return String(Number(v.toPrecision(3)));
    });
  }

  // An objective value: scientific for a log10 objective (values span decades).
  function fmtObj(v, logScale) {
    if (v === null || v === undefined) return "–";
    return logScale ? Number(v).toExponential(2) : String(Number(Number(v).toPrecision(4)));
  }

  function fmtNum(v) {
    if (typeof v !== "number") return v === null || v === undefined ? "–" : String(v);
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  }

  // A table's header row: one column heading per label, with the class classOf(i) gives it.
  function thead(labels, classOf) {
    var head = el("thead"), tr = el("tr");
    labels.forEach(function (label, i) {
      var th = el("th", label, classOf ? classOf(i) : "");
      th.scope = "col";
      tr.appendChild(th);
    });
    head.appendChild(tr);
    return head;
  }

  window.KilnFormat = {
    el: el, idCell: idCell, thead: thead, fmtTime: fmtTime, fmtPrediction: fmtPrediction,
    fmtAcquisitions: fmtAcquisitions, fmtObj: fmtObj, fmtNum: fmtNum
  };
})();
