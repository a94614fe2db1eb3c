/* GreenMatch pages: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  var locale = document.body.getAttribute("data-locale") || "zh";
  var english = locale === "en";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function csrfToken() { var meta = $('meta[name="csrf-token"]'); return meta ? meta.getAttribute("content") : ""; }
  function debounce(fn, ms) {
    var timer = null;
    return function () { var args = arguments, self = this; clearTimeout(timer); timer = setTimeout(function () { fn.apply(self, args); }, ms); };
  }
  function jsonData(id) { var node = document.getElementById(id); try { return node ? JSON.parse(node.textContent) : null; } catch (e) { return null; } }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  /* -- money, as the server formats it (Babel's compact numbers: ¥1.5亿, ¥3200万 / ¥150M) --------- */
  function trim(text) { return text.indexOf(".") >= 0 ? text.replace(/0+$/, "").replace(/\.$/, "") : text; }
  function group(n, digits) { return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }); }
  function money(value) {
    if (value === null || value === undefined || isNaN(value)) { return "—"; }
    var sign = value < 0 ? "-" : "", v = Math.abs(value);
    function compact(n) { return trim(n.toFixed(2)); }
    if (english) {
      if (v >= 1e12) { return sign + "¥" + compact(v / 1e12) + "T"; }
      if (v >= 1e9) { return sign + "¥" + compact(v / 1e9) + "B"; }
      if (v >= 1e6) { return sign + "¥" + compact(v / 1e6) + "M"; }
      if (v >= 1e4) { return sign + "¥" + compact(v / 1e3) + "K"; }
      return sign + "¥" + group(v, 0);
    }
    if (v >= 1e12) { return sign + "¥" + compact(v / 1e12) + "万亿"; }
    if (v >= 1e8) { return sign + "¥" + compact(v / 1e8) + "亿"; }
    if (v >= 1e4) { return sign + "¥" + compact(v / 1e4) + "万"; }
    return sign + "¥" + group(v, 0);
  }
  window.GreenMatch = { money: money };

  $all("[data-money]").forEach(function (input) {
    var hint = $('[data-money-hint-for="' + input.id + '"]');
    if (!hint) { return; }
    function update() {
      var raw = (input.value || "").replace(/[,，\s_]/g, "");
      var value = raw === "" ? NaN : Number(raw);
      hint.textContent = raw === "" || isNaN(value) || value <= 0 ? "" : "≈ " + money(value) + (english ? "" : "（¥" + group(value, value % 1 ? 2 : 0) + "）");
    }
    input.addEventListener("input", update);
    update();
  });

  /* -- region pickers: province → city ---------------------------------------------------------- */
  var regionTree = jsonData("gm-region-tree");
  $all("[data-region-picker]").forEach(function (picker) {
    var province = $("[data-region-province]", picker), city = $("[data-region-city]", picker);
    if (!province || !city || !regionTree) { return; }
    province.addEventListener("change", function () {
      var cities = regionTree[province.value] || [];
      city.innerHTML = "";
      city.appendChild(el("option", { value: "" }, city.getAttribute("data-empty-label") || "—"));
      cities.forEach(function (c) { city.appendChild(el("option", { value: c[0] }, english ? (c[2] || c[1]) : c[1])); });
      city.disabled = cities.length === 0;
    });
  });

  /* -- catalogue level 1 → level 2 --------------------------------------------------------------- */
  $all("[data-category-level1]").forEach(function (level1) {
    var form = level1.form, level2 = form && $("[data-category-level2]", form);
    if (!level2) { return; }
    function filter() {
      $all("option[data-parent]", level2).forEach(function (option) {
        var show = !level1.value || option.getAttribute("data-parent") === level1.value;
        option.hidden = !show; option.disabled = !show;
      });
      var chosen = level2.options[level2.selectedIndex];
      if (chosen && chosen.disabled) { level2.value = ""; }
    }
    level1.addEventListener("change", filter);
    filter();
  });

  /* -- USCC check character (GB 32100-2015) ----------------------------------------------------- */
  var USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function usccProblem(code) {
    if (!/^[0-9A-HJ-NPQRTUWXY]*$/.test(code)) { return "chars"; }
    if (code.length !== 18) { return "length"; }
    if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) { return "chars"; }
    var total = 0;
    for (var i = 0; i < 17; i++) { total += USCC_ALPHABET.indexOf(code[i]) * USCC_WEIGHTS[i]; }
    return USCC_ALPHABET[(31 - total % 31) % 31] === code[17] ? null : "bad";
  }
  $all("[data-uscc]").forEach(function (input) {
    var hint = $("[data-uscc-hint]");
    if (!hint) { return; }
    function update() {
      var code = (input.value || "").trim().toUpperCase();
      hint.classList.remove("ok", "bad");
      if (!code) { hint.textContent = ""; return; }
      var problem = usccProblem(code);
      if (problem === null) { hint.textContent = "✓ " + hint.getAttribute("data-ok"); hint.classList.add("ok"); }
      else if (problem === "length") { hint.textContent = hint.getAttribute("data-length").replace("{n}", code.length); }
      else { hint.textContent = hint.getAttribute(problem === "chars" ? "data-chars" : "data-bad"); hint.classList.add("bad"); }
    }
    input.addEventListener("input", update);
    update();
  });

  /* -- registration: institution type only for institutions ---------------------------------------- */
  var kindChoices = $all("[data-kind-choice]");
  if (kindChoices.length) {
    var institutionOnly = $all("[data-institution-only]");
    var sync = function () {
      var institution = kindChoices.some(function (r) { return r.checked && r.value === "institution"; });
      institutionOnly.forEach(function (node) { node.hidden = !institution; });
    };
    kindChoices.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  /* -- the financing-need form: categories, suggestions, industry lookup ------------------------------ */
  var projectForm = $("[data-project-form]");
  if (projectForm) {
    var categoriesInput = $("[data-categories-input]", projectForm);
    var chips = $("[data-categories-chips]", projectForm);
    var browse = $("[data-category-browse]", projectForm);
    var suggestions = $("[data-suggestions]", projectForm);
    var names = {};
    if (browse) { $all("option", browse).forEach(function (o) { if (o.value) { names[o.value] = o.textContent.replace(o.value, "").trim(); } }); }

    var codes = function () { return (categoriesInput.value || "").split(/[\s,，、;；]+/).filter(Boolean); };
    var setCodes = function (list) { categoriesInput.value = list.filter(function (c, i) { return list.indexOf(c) === i; }).join(", "); renderChips(); renderSuggestions(); };
    var addCode = function (code) { setCodes(codes().concat([code])); };
    var renderChips = function () {
      chips.innerHTML = "";
      codes().forEach(function (code) {
        var chip = el("span", { "class": "gm-chip" }, code + (names[code] ? " " + names[code] : ""));
        var remove = el("button", { type: "button", "class": "btn-close btn-sm ms-1", "aria-label": (english ? "Remove " : "移除 ") + code });
        remove.style.fontSize = ".55rem";
        remove.addEventListener("click", function () { setCodes(codes().filter(function (c) { return c !== code; })); });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    };
    categoriesInput.addEventListener("change", renderChips);
    renderChips();

    if (browse) {
      var addButton = $("[data-category-add]", projectForm);
      addButton.addEventListener("click", function () { if (browse.value) { addCode(browse.value); browse.value = ""; } });
    }

    var lastItems = [];
    var renderSuggestions = function () {
      if (!suggestions) { return; }
      suggestions.innerHTML = "";
      if (!lastItems.length) { suggestions.appendChild(el("div", { "class": "small text-muted" }, suggestions.getAttribute("data-empty"))); return; }
      suggestions.appendChild(el("div", { "class": "small fw-semibold mb-1" }, suggestions.getAttribute("data-title")));
      var row = el("div", { "class": "d-flex flex-wrap gap-1", "data-testid": "suggestions" });
      var have = codes();
      lastItems.forEach(function (item) {
        var name = english ? (item.name_en || item.name_zh) : item.name_zh;
        names[item.code] = names[item.code] || name;
        var added = have.indexOf(item.code) >= 0;
        var button = el("button", { type: "button", "class": "gm-chip", "data-code": item.code, "aria-pressed": added ? "true" : "false" });
        button.appendChild(document.createTextNode((added ? "✓ " : "+ ") + item.code + " " + name + " "));
        button.appendChild(el("span", { "class": "gm-conf" }, Math.round(item.confidence * 100) + "%"));
        button.addEventListener("click", function () { if (codes().indexOf(item.code) < 0) { addCode(item.code); } });
        row.appendChild(button);
      });
      suggestions.appendChild(row);
    };

    var nameInput = $("#f-name", projectForm), descInput = $("#f-description", projectForm), industryInput = $("#f-industry_code", projectForm);
    var classify = debounce(function () {
      var name = (nameInput.value || "").trim(), description = (descInput.value || "").trim();
      if ((name + description).length < 4) { lastItems = []; renderSuggestions(); return; }
      var body = { name: name || description.slice(0, 100), description: description, limit: 5 };
      var industry = (industryInput.value || "").trim();
      if (/^[A-Ta-t]?\d{2,4}$/.test(industry)) { body.industry_code = industry; }
      fetch("/api/v1/taxonomy/classify", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body)
      }).then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          lastItems = (data.items || []).filter(function (item) { return item.confidence >= 0.05; });
          renderSuggestions();
        })
        .catch(function () { suggestions.innerHTML = ""; suggestions.appendChild(el("div", { "class": "small text-muted" }, suggestions.getAttribute("data-error"))); });
    }, 500);
    $all("[data-classify-source]", projectForm).forEach(function (input) { input.addEventListener("input", classify); });
    if ((nameInput.value || descInput.value)) { classify(); }

    var datalist = $("#industry-options");
    var lookup = debounce(function () {
      var q = (industryInput.value || "").trim().replace(/^[A-Ta-t](?=\d)/, "");
      if (!q) { return; }
      fetch("/api/v1/taxonomy/industries?per_page=30&q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          datalist.innerHTML = "";
          (data.items || []).filter(function (i) { return i.code.length >= 3; }).forEach(function (item) {
            datalist.appendChild(el("option", { value: item.code, label: item.code + " " + (english ? (item.name_en || item.name_zh) : item.name_zh) }));
          });
        }).catch(function () {});
    }, 300);
    if (industryInput && datalist) { industryInput.addEventListener("input", lookup); }
  }

  /* -- engagement progress: amount and date only when financed -------------------------------------- */
  $all("[data-progress-form]").forEach(function (form) {
    var only = $("[data-financed-only]", form), radios = $all("[data-progress-status]", form);
    function sync() {
      var financed = radios.some(function (r) { return r.checked && r.value === "financed"; });
      only.hidden = !financed && !$(".is-invalid", only);
    }
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  });

  /* -- first invalid field gets the focus --------------------------------------------------------- */
  var firstInvalid = $("form .is-invalid");
  if (firstInvalid && typeof firstInvalid.focus === "function") { firstInvalid.focus({ preventScroll: false }); }

  /* -- statistics dashboard (Chart.js 4) ------------------------------------------------------------ */
  var charts = jsonData("gm-charts");
  if (charts && window.Chart) {
    var Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#3c4a43";
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    var NEED = "#9cc9ad", FINANCED = "#1f6f43";
    var moneyAxis = { beginAtZero: true, ticks: { callback: function (v) { return money(v); } }, grid: { color: "#edf2ef" } };
    var moneyTooltip = { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + money(ctx.parsed[ctx.chart.options.indexAxis === "y" ? "x" : "y"]); } } };
    var needFinanced = function (id, data, horizontal) {
      var node = document.getElementById(id);
      if (!node) { return; }
      new Chart(node, {
        type: "bar",
        data: { labels: data.labels, datasets: [
          { label: charts.series.need, data: data.need, backgroundColor: NEED, borderRadius: 4 },
          { label: charts.series.financed, data: data.financed, backgroundColor: FINANCED, borderRadius: 4 }
        ] },
        options: {
          indexAxis: horizontal ? "y" : "x", maintainAspectRatio: false, responsive: true,
          scales: horizontal ? { x: moneyAxis, y: { grid: { display: false } } }
                             : { y: moneyAxis, x: { grid: { display: false }, ticks: { autoSkip: false, maxRotation: 40, minRotation: 0,
                                 callback: function (v) { var l = this.getLabelForValue(v); return l.length > 14 ? l.slice(0, 13) + "…" : l; } } } },
          plugins: { tooltip: moneyTooltip, legend: { position: "bottom" } }
        }
      });
    };
    needFinanced("chart-category", charts.category, false);
    needFinanced("chart-region", charts.region, true);
    needFinanced("chart-instrument", charts.instrument, false);

    var statusNode = document.getElementById("chart-status");
    if (statusNode) {
      var palette = { draft: "#b8c5bd", submitted: "#5aa9d6", returned: "#e0a63a", approved: "#1f6f43", rejected: "#c62828" };
      new Chart(statusNode, {
        type: "doughnut",
        data: { labels: charts.status.labels, datasets: [{ data: charts.status.counts, borderWidth: 2, borderColor: "#fff",
          backgroundColor: charts.status.keys.map(function (k) { return palette[k] || "#999"; }) }] },
        options: { maintainAspectRatio: false, cutout: "62%", plugins: { legend: { position: "bottom" } } }
      });
    }
    var monthNode = document.getElementById("chart-monthly");
    if (monthNode) {
      new Chart(monthNode, {
        data: { labels: charts.monthly.labels, datasets: [
          { type: "bar", label: charts.series.submitted, data: charts.monthly.submitted, backgroundColor: "#9ccbe6", borderRadius: 3, yAxisID: "count" },
          { type: "bar", label: charts.series.approved, data: charts.monthly.approved, backgroundColor: "#52a06f", borderRadius: 3, yAxisID: "count" },
          { type: "bar", label: charts.series.rejected, data: charts.monthly.rejected, backgroundColor: "#e49a9a", borderRadius: 3, yAxisID: "count" },
          { type: "line", label: charts.series.financed, data: charts.monthly.financed, borderColor: FINANCED, backgroundColor: FINANCED, cubicInterpolationMode: "monotone", yAxisID: "money" }
        ] },
        options: {
          maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
          scales: { count: { position: "left", beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#edf2ef" } },
                    money: Object.assign({}, moneyAxis, { position: "right", grid: { display: false } }), x: { grid: { display: false } } },
          plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ": " + (ctx.dataset.yAxisID === "money" ? money(ctx.parsed.y) : ctx.parsed.y); } } } }
        }
      });
    }
  }
})();
