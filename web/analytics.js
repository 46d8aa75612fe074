/* The analytics console: a choropleth of the 20 regions (d3-geo + topojson-client, vendored), Astana by district,
   a time series, breakdowns, the problem zones with their anonymised cases. Every filter lives in the URL, so a
   view can be shared; every table downloads as CSV with exactly the rows and numbers it shows.
   Data from the API reaches the page only through textContent and attributes, never as markup. */
(() => {
  "use strict";
  const { $, t, el } = Q, nm = Q.name;
  const FILTERS = ["region", "agency", "category", "sector", "kind"];
  const PERIODS = ["day", "week", "month"], MEASURES = ["per_10k", "per_outlet", "count"];
  const LEVELS = ["region", "category", "outlet"];
  const OUTCOMES = ["open", "settled", "upheld", "not_confirmed", "rejected"];
  const BUCKETS = ["d1", "d3", "d10", "d21", "more"];
  const CLASSES = 5, MAX_DAYS = 366, DEFAULT_DAYS = 90, KEY = "qalqan.key.analyst";
  // Problem zones are ranked over the last fortnight of the period, against the four fortnights before it:
  // the whole period as the window would need a baseline four periods long.
  const HOT_DAYS = 14;
  const LOCALE = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" };
  const W = 960, H = 520; // the map's viewBox; the SVG scales to its box

  // The SVG namespace, taken from the page's own map element (web assets name no external URL).
  const SVG = document.getElementById("map").namespaceURI;
  let key = readKey(), catalog = null, topo = null, features = null, drawn = false, gen = 0, casesGen = 0;
  let data = null, cases = null, zone = null;

  // ---- the key: in sessionStorage only, gone when the tab closes ----
  function readKey() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function storeKey(v) { try { if (v) sessionStorage.setItem(KEY, v); else sessionStorage.removeItem(KEY); } catch (e) { /* memory */ } }

  function explain(e) {
    if (e.net) return t("e_network");
    if (e.status >= 500) return t("e_server");
    if (e.status === 429) return t("e_busy");
    if (e.status === 403) return t("e_key_role");
    const fields = e.error && e.error.fields ? Object.entries(e.error.fields).map(([f, v]) => f + ": " + (v.message || v.code)) : [];
    return [(e.error && e.error.message) || String(e.status), ...fields].join(" ");
  }
  async function call(path) {
    try {
      return await Q.api(path, null, { Authorization: "Bearer " + key });
    } catch (e) {
      if (e.status === 401) { signOut(t("e_key_rejected")); e.handled = true; }
      throw e;
    }
  }

  // ---- dates: local days in Kazakhstan time ----
  const iso = (d) => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Almaty", year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  const dayMs = 86400000;
  const days = (a, b) => Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / dayMs) + 1;
  const shift = (s, n) => new Date(Date.parse(s + "T00:00:00Z") + n * dayMs).toISOString().slice(0, 10);
  const isDay = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || "") && !isNaN(Date.parse(s + "T00:00:00Z"));

  // ---- the view's state, read from and written to the URL ----
  function readState() {
    const q = new URLSearchParams(location.search), today = iso(new Date());
    const to = isDay(q.get("to")) ? q.get("to") : today;
    const from = isDay(q.get("from")) ? q.get("from") : shift(to, 1 - DEFAULT_DAYS);
    const pick = (name, list, dflt) => (list.includes(q.get(name)) ? q.get(name) : dflt);
    const s = { from, to, period: pick("period", PERIODS, "week"), measure: pick("measure", MEASURES, "per_10k"),
      level: pick("level", LEVELS, "region") };
    for (const f of FILTERS) s[f] = q.get(f) || "";
    return s;
  }
  function formState() {
    const s = {};
    for (const n of ["from", "to", "period", "measure", "level", ...FILTERS]) s[n] = $("f_" + n).value;
    return s;
  }
  function writeState(s) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(s)) if (v) q.set(k, v);
    history.replaceState(null, "", location.pathname + "?" + q.toString());
    $("share").href = location.href;
  }
  function setForm(s) {
    for (const [k, v] of Object.entries(s)) {
      const input = $("f_" + k);
      if (input) input.value = v;
    }
  }
  const filterQuery = (s, names) => names.filter((f) => s[f]).map((f) => "&" + f + "=" + encodeURIComponent(s[f])).join("");

  // ---- names and numbers in the chosen language ----
  const lookup = (kind, code) => {
    if (kind === "category" && code === "none") return t("none_category");
    const list = catalog ? catalog[{ region: "regions", agency: "agencies", category: "categories", sector: "sectors" }[kind]] : null;
    const found = list && list.find((x) => (x.code || x.id) === code);
    return found ? nm(found.name) : code;
  };
  const fmt = (v, digits) => (v == null ? t("no_rate") : new Intl.NumberFormat(LOCALE[Q.lang],
    { maximumFractionDigits: digits == null ? 0 : digits, minimumFractionDigits: 0 }).format(v));
  function fillSelects() {
    const coll = new Intl.Collator(Q.lang), bare = (s) => s.replace(/^(г\.|область)\s+/, "");
    const fill = (id, kind, list) => {
      const sel = $(id), v = sel.value;
      sel.textContent = "";
      sel.add(new Option(t("all"), ""));
      const items = (list || []).map((x) => [x.code || x.id, nm(x.name)]).sort((a, b) => coll.compare(bare(a[1]), bare(b[1])));
      if (kind === "category") items.push(["none", t("none_category")]);
      for (const [code, name] of items) sel.add(new Option(name, code));
      sel.value = v;
    };
    fill("f_region", "region", catalog && catalog.regions);
    fill("f_agency", "agency", catalog && catalog.agencies);
    fill("f_category", "category", catalog && catalog.categories);
    fill("f_sector", "sector", catalog && catalog.sectors);
  }

  // ---- loading: one round of requests per view; a newer view discards an older one's answers ----
  async function load() {
    const s = formState();
    const bad = !isDay(s.from) || !isDay(s.to) || days(s.from, s.to) < 1 || days(s.from, s.to) > MAX_DAYS;
    Q.fieldErr("f_to", bad ? t("e_range") : null);
    if (bad) return;
    writeState(s);
    const g = ++gen, range = "from=" + s.from + "&to=" + s.to;
    const hotFrom = days(s.from, s.to) > HOT_DAYS ? shift(s.to, 1 - HOT_DAYS) : s.from;
    const hotRange = "from=" + hotFrom + "&to=" + s.to;
    const all = filterQuery(s, FILTERS);
    $("status").textContent = t("loading");
    $("msg").textContent = "";
    try {
      const [areas, breakdown, series, hot, districts] = await Promise.all([
        // The map shows every region under the other filters; the chosen region is outlined, not the only one.
        call("/analytics/areas?" + range + filterQuery(s, FILTERS.filter((f) => f !== "region"))),
        call("/analytics/summary?" + range + "&group_by=category,agency,sector" + all),
        call("/analytics/summary?" + range + "&group_by=" + s.period + all),
        call("/analytics/hotspots?" + hotRange + "&level=" + s.level + "&limit=20"),
        s.region === "71" ? call("/analytics/areas?" + range + "&level=district&region=71" + filterQuery(s, ["sector"]))
          : Promise.resolve(null),
      ]);
      if (g !== gen) return;
      data = { s, areas, breakdown, series, hot, districts };
      render();
      $("status").textContent = t("loaded", fmt(breakdown.totals.count));
    } catch (e) {
      if (g !== gen || e.handled) return;
      $("status").textContent = "";
      $("msg").textContent = explain(e);
    }
  }

  // ---- the map ----
  async function loadMap() {
    try {
      const r = await fetch("geo/kz-regions.topo.json");
      if (!r.ok) throw new Error(String(r.status));
      topo = await r.json();
      features = topojson.feature(topo, topo.objects.regions).features;
    } catch (e) {
      topo = features = null;
      $("map_note").textContent = t("e_map");
    }
  }
  function drawMap() {
    if (!features || drawn) return;
    const svg = $("map");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    // An equal-area conic centred on Kazakhstan: regions keep their relative areas, as a choropleth should.
    const projection = d3.geoConicEqualArea().parallels([44, 52]).rotate([-67, 0])
      .fitExtent([[8, 8], [W - 8, H - 8]], { type: "FeatureCollection", features });
    const path = d3.geoPath(projection);
    for (const f of features) {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", path(f));
      p.setAttribute("class", "rg qn");
      p.setAttribute("tabindex", "0");
      p.setAttribute("role", "button");
      p.dataset.code = f.id;
      p.addEventListener("mouseenter", (ev) => showTip(f.id, ev));
      p.addEventListener("mousemove", (ev) => moveTip(ev));
      p.addEventListener("mouseleave", hideTip);
      p.addEventListener("focus", () => showTip(f.id, null));
      p.addEventListener("blur", hideTip);
      p.addEventListener("click", () => pickRegion(f.id));
      p.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pickRegion(f.id); } });
      svg.appendChild(p);
    }
    drawn = true;
  }
  function pickRegion(code) {
    const sel = $("f_region");
    sel.value = sel.value === code ? "" : code;
    load();
  }
  const areaRow = (code) => data && data.areas.rows.find((r) => r.code === code);
  function tipLines(code) {
    const r = areaRow(code);
    if (!r) return [lookup("region", code)];
    return [lookup("region", code), t("c_count") + ": " + fmt(r.count), t("c_per_10k") + ": " + fmt(r.per_10k, 2),
      t("c_outlets") + ": " + fmt(r.outlets), t("c_per_outlet") + ": " + fmt(r.per_outlet, 1)];
  }
  function showTip(code, ev) {
    const tip = $("tip");
    tip.textContent = "";
    tipLines(code).forEach((line, i) => tip.appendChild(el(i ? "span" : "strong", null, line)));
    tip.hidden = false;
    if (ev) moveTip(ev);
    else {
      const box = document.querySelector('#map path[data-code="' + code + '"]').getBoundingClientRect();
      const fig = $("map").getBoundingClientRect();
      place(box.left - fig.left + box.width / 2, box.top - fig.top + box.height / 2);
    }
  }
  function moveTip(ev) {
    const fig = $("map").getBoundingClientRect();
    place(ev.clientX - fig.left, ev.clientY - fig.top);
  }
  function place(x, y) {
    const tip = $("tip");
    tip.style.left = Math.round(x + 12) + "px"; // CSSOM, which the page's CSP allows (no inline style attribute)
    tip.style.top = Math.round(y + 12) + "px";
  }
  function hideTip() { $("tip").hidden = true; }

  const measureOf = (r, m) => (m === "count" ? r.count : r[m]);
  // Quantile classes over the regions that have a value: each colour holds about as many regions.
  function breaks(values) {
    const v = values.filter((x) => x != null).sort((a, b) => a - b);
    if (!v.length) return [];
    const out = [];
    for (let i = 1; i < CLASSES; i++) out.push(v[Math.min(v.length - 1, Math.floor((i * v.length) / CLASSES))]);
    return [...new Set(out)].filter((x) => x > v[0]); // equal values share a colour; the lowest opens class 0
  }
  const classOf = (v, b) => (v == null ? "qn" : "q" + b.filter((x) => v >= x).length);
  function renderMap() {
    const m = data.s.measure, rows = data.areas.rows;
    const b = breaks(rows.map((r) => measureOf(r, m)));
    for (const p of document.querySelectorAll("#map path")) {
      const r = areaRow(p.dataset.code), v = r ? measureOf(r, m) : null;
      p.setAttribute("class", "rg " + classOf(v, b) + (data.s.region === p.dataset.code ? " on" : ""));
      p.setAttribute("aria-label", tipLines(p.dataset.code).join(", "));
      p.setAttribute("aria-pressed", String(data.s.region === p.dataset.code));
    }
    const legend = $("legend");
    legend.textContent = "";
    const digits = m === "count" ? 0 : 2;
    const edges = [null, ...b, null];
    for (let i = 0; i <= b.length && rows.length; i++) {
      const item = el("span", "lg");
      item.appendChild(el("i", "sw q" + i));
      const lo = edges[i], hi = edges[i + 1];
      item.appendChild(document.createTextNode(lo == null && hi == null ? t("all") : lo == null ? "< " + fmt(hi, digits)
        : hi == null ? "≥ " + fmt(lo, digits) : fmt(lo, digits) + "–" + fmt(hi, digits)));
      legend.appendChild(item);
    }
    $("map_desc").textContent = t("map_desc");
    if (drawn && !renderMap.marked) {
      renderMap.marked = true;
      performance.mark("qalqan:map-rendered"); // the browser test reads the time to the first coloured map
    }
  }

  // ---- tables ----
  function cell(tag, text, value, cls) {
    const c = el(tag, cls || null, text);
    if (value != null) c.dataset.v = String(value);
    return c;
  }
  function fillTable(id, rows) {
    const body = $(id).tBodies[0];
    body.textContent = "";
    for (const r of rows) body.appendChild(r);
  }
  function barRow(label, n, total, max, extra) {
    const tr = el("tr");
    const th = cell("th", label);
    th.scope = "row";
    const bar = el("span", "vbar");
    bar.style.width = (max ? (100 * n) / max : 0).toFixed(1) + "%";
    th.appendChild(bar);
    tr.append(th, cell("td", fmt(n), n, "n"));
    if (extra) extra.forEach((x) => tr.appendChild(x));
    else {
      const share = total ? Math.round((1000 * n) / total) / 10 : 0;
      tr.appendChild(cell("td", fmt(share, 1) + " %", share, "n"));
    }
    return tr;
  }
  function renderAreas() {
    const m = data.s.measure;
    const rows = [...data.areas.rows].sort((a, b) => (measureOf(b, m) ?? -1) - (measureOf(a, m) ?? -1)
      || lookup("region", a.code).localeCompare(lookup("region", b.code)));
    fillTable("areas", rows.map((r) => {
      const tr = el("tr");
      if (data.s.region === r.code) tr.className = "on";
      const th = cell("th", lookup("region", r.code), r.code);
      th.scope = "row";
      tr.append(th, cell("td", fmt(r.count), r.count, "n"), cell("td", fmt(r.per_10k, 2), r.per_10k, "n"),
        cell("td", fmt(r.outlets), r.outlets, "n"), cell("td", fmt(r.per_outlet, 1), r.per_outlet, "n"));
      return tr;
    }));
    $("areas_total").textContent = fmt(data.areas.total);
    $("areas_total").dataset.v = String(data.areas.total);
    const p = data.areas.population;
    $("pop_source").textContent = t("pop_source", p.source + ", " + p.as_of);
  }
  function renderDistricts() {
    const d = data.districts;
    $("district_s").hidden = !d;
    if (!d) return;
    const max = Math.max(0, ...d.rows.map((r) => r.count));
    fillTable("districts", d.rows.map((r) => barRow(nm(r.name) || r.code, r.count, d.total, max, [
      cell("td", fmt(r.per_10k, 2), r.per_10k, "n"), cell("td", fmt(r.outlets), r.outlets, "n"),
      cell("td", fmt(r.per_outlet, 1), r.per_outlet, "n")])));
    $("unassigned").textContent = t("unassigned", fmt(d.unassigned));
  }
  function periodLabel(p, v) {
    if (p === "day") return Q.date(v + "T12:00:00+05:00", true);
    return v;
  }
  function renderSeries() {
    const p = data.s.period, groups = data.series.groups;
    fillTable("series", groups.map((g) => {
      const tr = el("tr"), th = cell("th", periodLabel(p, g[p]), g[p]);
      th.scope = "row";
      tr.append(th, cell("td", fmt(g.count), g.count, "n"), cell("td", fmt(g.settled), g.settled, "n"),
        cell("td", fmt(g.upheld), g.upheld, "n"), cell("td", fmt(g.open), g.open, "n"));
      return tr;
    }));
    // Bars of the count per period: a plain linear scale, the chart is a picture of the table beneath it.
    const chart = $("chart"), max = Math.max(1, ...groups.map((g) => g.count));
    chart.textContent = "";
    const svg = document.createElementNS(SVG, "svg"), bw = groups.length ? 900 / groups.length : 0;
    svg.setAttribute("viewBox", "0 0 900 200");
    svg.setAttribute("preserveAspectRatio", "none");
    groups.forEach((g, i) => {
      const r = document.createElementNS(SVG, "rect"), h = (180 * g.count) / max;
      r.setAttribute("x", (i * bw + bw * 0.1).toFixed(1));
      r.setAttribute("width", Math.max(1, bw * 0.8).toFixed(1));
      r.setAttribute("y", (190 - h).toFixed(1));
      r.setAttribute("height", h.toFixed(1));
      r.setAttribute("class", "col");
      const title = document.createElementNS(SVG, "title");
      title.textContent = periodLabel(p, g[p]) + ": " + fmt(g.count);
      r.appendChild(title);
      svg.appendChild(r);
    });
    chart.appendChild(svg);
    const axis = el("p", "axis");
    if (groups.length) axis.append(el("span", null, periodLabel(p, groups[0][p])), el("span", null, periodLabel(p, groups[groups.length - 1][p])));
    chart.appendChild(axis);
  }
  function renderBreakdowns() {
    const rows = data.breakdown.groups, totals = data.breakdown.totals, total = totals.count;
    for (const dim of ["category", "agency", "sector"]) {
      const sums = new Map();
      for (const r of rows) sums.set(r[dim], (sums.get(r[dim]) || 0) + r.count);
      const list = [...sums].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
      const max = list.length ? list[0][1] : 0;
      fillTable("by_" + dim, list.map(([code, n]) => {
        const tr = barRow(lookup(dim, code), n, total, max);
        tr.firstChild.dataset.v = code;
        return tr;
      }));
    }
    const omax = Math.max(0, ...OUTCOMES.map((o) => totals[o]));
    fillTable("by_outcome", OUTCOMES.map((o) => {
      const tr = barRow(t("o_" + o), totals[o], total, omax);
      tr.firstChild.dataset.v = o;
      return tr;
    }));
    fillTable("by_response", BUCKETS.map((b) => {
      const tr = el("tr"), th = cell("th", t("b_" + b), b);
      th.scope = "row";
      tr.append(th, cell("td", fmt(totals["business_answer_" + b]), totals["business_answer_" + b], "n"),
        cell("td", fmt(totals["agency_decision_" + b]), totals["agency_decision_" + b], "n"));
      return tr;
    }));
    $("avg_business").textContent = fmt(totals.business_answer_hours_avg, 1);
    $("avg_agency").textContent = fmt(totals.agency_decision_hours_avg, 1);
  }
  function zoneLabel(level, item) {
    if (level === "outlet") return item.outlet + " · " + lookup("sector", item.sector) + " · " + lookup("region", item.region);
    return lookup(level, item[level]) + " × " + lookup("sector", item.sector);
  }
  function renderHotspots() {
    const level = data.hot.level;
    fillTable("hotspots", data.hot.items.map((item) => {
      const tr = el("tr"), th = cell("th", zoneLabel(level, item), level === "outlet" ? item.outlet : item[level] + "/" + item.sector);
      th.scope = "row";
      const btn = el("button", "btn small", t("show_cases"));
      btn.type = "button";
      btn.addEventListener("click", () => loadCases(level, item));
      const td = el("td");
      td.appendChild(btn);
      tr.append(cell("td", String(item.rank), item.rank), th, cell("td", fmt(item.current), item.current, "n"),
        cell("td", fmt(item.baseline, 2), item.baseline, "n"), cell("td", fmt(item.peer_expected, 2), item.peer_expected, "n"),
        cell("td", fmt(item.score, 2), item.score, "n"), td);
      return tr;
    }));
  }
  async function loadCases(level, item) {
    const s = data.s, g = ++casesGen;
    const parts = level === "outlet" ? { outlet: item.outlet } : { [level]: item[level], sector: item.sector };
    const q = Object.entries(parts).map(([k, v]) => "&" + k + "=" + encodeURIComponent(v)).join("");
    zone = { level, item };
    try {
      const r = await call("/analytics/cases?from=" + data.hot.from + "&to=" + data.hot.to + "&level=" + level + q + "&limit=50");
      if (g !== casesGen) return;
      cases = r;
      renderCases();
      $("cases_box").hidden = false;
      $("cases_h").focus();
    } catch (e) {
      if (!e.handled) $("msg").textContent = explain(e);
    }
  }
  function renderCases() {
    if (!cases || !zone) return;
    $("cases_h").textContent = t("cases_for", zoneLabel(zone.level, zone.item));
    fillTable("cases", cases.cases.map((x) => {
      const tr = el("tr");
      tr.append(cell("td", Q.date(x.day + "T12:00:00+05:00", true), x.day), cell("td", lookup("category", x.category), x.category),
        cell("td", lookup("agency", x.agency), x.agency), cell("td", t("o_" + x.outcome), x.outcome),
        cell("td", fmt(x.business_answer_hours, 1), x.business_answer_hours, "n"),
        cell("td", fmt(x.agency_decision_hours, 1), x.agency_decision_hours, "n"),
        cell("td", x.text || t("no_text"), x.text || "", x.text ? "tx" : "hint"));
      return tr;
    }));
    $("cases_more").textContent = !cases.cases.length ? t("cases_none") : cases.more ? t("cases_more", cases.cases.length) : "";
  }
  function render() {
    if (!data) return;
    drawMap();
    renderAreas();
    renderMap();
    renderDistricts();
    renderSeries();
    renderBreakdowns();
    renderHotspots();
    renderCases();
  }

  // ---- CSV: the table as shown, each number as its plain value (data-v), a header row, UTF-8 with a BOM ----
  // A cell starting like a formula (= + - @ tab CR) gets a leading ' so a spreadsheet shows it and never runs it
  // (OWASP CSV injection: the cases table holds consumers' own words); a plain number such as -3.5 stays a
  // number. The same rule as csv_cell in chalicelib/services/open_data.py.
  function csvCell(v) {
    return /^[=+\-@\t\r]/.test(v) && !/^[-+]?\d+(\.\d+)?$/.test(v) ? "'" + v : v;
  }
  function csvOf(table) {
    const q = (raw) => {
      const v = csvCell(raw);
      return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
    };
    const lines = [];
    const head = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
    lines.push(head.map(q).join(","));
    for (const row of table.tBodies[0].rows) {
      lines.push([...row.cells].map((c) => (c.querySelector("button") ? "" : c.dataset.v != null ? c.dataset.v : c.textContent.trim())).map(q).join(","));
    }
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }
  function download(id) {
    const s = data ? data.s : formState();
    const blob = new Blob([csvOf($(id))], { type: "text/csv;charset=utf-8" });
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = "qalqan-" + id + "-" + s.from + "-" + s.to + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  // ---- sign in and out ----
  async function signIn(ev) {
    ev.preventDefault();
    const k = $("key").value.trim().replace(/^Bearer\s+/i, "");
    const problem = !k ? t("e_key_empty") : /^[\x21-\x7e]+$/.test(k) ? null : t("e_key_rejected");
    Q.fieldErr("key", problem);
    if (problem) return $("key").focus();
    key = k;
    try {
      await call("/analytics/hotspots?from=" + iso(new Date()) + "&to=" + iso(new Date()) + "&level=region&limit=1");
      storeKey(key);
      $("key").value = "";
      show(true);
      load();
    } catch (e) {
      if (e.handled) return;
      key = null;
      Q.fieldErr("key", explain(e));
      $("key").focus();
    }
  }
  function signOut(why) {
    key = null;
    storeKey(null);
    data = cases = zone = null;
    show(false);
    Q.fieldErr("key", why || null);
    $("msg").textContent = why ? "" : t("signed_out");
  }
  function show(inside) {
    $("signin").hidden = inside;
    $("in").hidden = !inside;
  }

  async function start() {
    setForm(readState());
    $("share").href = location.href;
    $("signin").addEventListener("submit", signIn);
    $("signout").addEventListener("click", () => signOut(null));
    $("filters").addEventListener("change", load);
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
    $("f_level").addEventListener("change", load);
    for (const b of document.querySelectorAll("[data-csv]")) b.addEventListener("click", () => download(b.dataset.csv));
    Q.onLang(() => { fillSelects(); render(); });
    const [cat] = await Promise.all([Q.api("/catalog").catch(() => null), loadMap()]);
    catalog = cat;
    fillSelects();
    setForm(readState()); // the selects have their options now
    show(Boolean(key));
    if (key) load();
  }
  start();
})();
