/* The site's own script: typeset math with the vendored KaTeX, and sort/filter the Browse table.
   No network access, no third-party code beyond KaTeX. */
(function () {
  "use strict";

  function typeset(root) {
    if (typeof renderMathInElement !== "function") return;
    // Only elements we mark: arithmatex output (generic mode) and LaTeX outputs of executed notebooks.
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false
      });
    });
    root.querySelectorAll(".output_latex, .jp-RenderedLatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false
      });
    });
  }

  function setupBrowse(box) {
    var table = box.querySelector("table");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var text = box.querySelector('input[data-filter="text"]');
    var selects = Array.prototype.slice.call(box.querySelectorAll("select[data-filter]"));
    var count = box.querySelector(".snnkb-count");
    var template = box.getAttribute("data-shown-template") || "{shown} / {total}";
    // Multi-valued facets hold space-separated terms; the others hold one value.
    var multi = { "categories": 1, "neuron-models": 1, "datasets": 1 };

    function textOk(row, needle) {
      return !needle || row.cells[0].textContent.toLowerCase().indexOf(needle) >= 0 ||
        row.cells[2].textContent.toLowerCase().indexOf(needle) >= 0;
    }

    function values(row, key) {
      var value = row.getAttribute("data-" + key) || "";
      return multi[key] ? value.split(" ").filter(Boolean) : [value];
    }

    function selectOk(row, sel) {
      return !sel.value || values(row, sel.getAttribute("data-filter")).indexOf(sel.value) >= 0;
    }

    function apply() {
      var needle = (text.value || "").trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var ok = textOk(row, needle) && selects.every(function (sel) { return selectOk(row, sel); });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = template.replace("{shown}", shown).replace("{total}", rows.length);
      // Each option's count: the papers it would show, given the text and every *other* filter.
      selects.forEach(function (sel) {
        var key = sel.getAttribute("data-filter");
        var counts = {};
        rows.forEach(function (row) {
          if (!textOk(row, needle)) return;
          var others = selects.every(function (o) { return o === sel || selectOk(row, o); });
          if (!others) return;
          values(row, key).forEach(function (v) { counts[v] = (counts[v] || 0) + 1; });
        });
        Array.prototype.forEach.call(sel.options, function (opt) {
          var name = opt.getAttribute("data-label");
          if (name !== null) opt.textContent = name + " (" + (counts[opt.value] || 0) + ")";
        });
      });
    }

    function sortBy(th) {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var numeric = th.getAttribute("data-sort") === "number";
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(th.parentNode.children, function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (row) {
        var v = row.cells[index].textContent.trim();
        return numeric ? parseFloat(v) || 0 : v.toLowerCase();
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = numeric ? x - y : x.localeCompare(y);
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { tbody.appendChild(row); });
    }

    text.addEventListener("input", apply);
    selects.forEach(function (sel) { sel.addEventListener("change", apply); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () { sortBy(th); });
      th.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); sortBy(th); }
      });
    });
    apply();
  }

  function init() {
    typeset(document.body);
    document.querySelectorAll(".snnkb-browse").forEach(setupBrowse);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
