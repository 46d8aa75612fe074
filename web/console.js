/* Shared by the agency console (agency.js) and the business inbox (business.js): the pasted access key, the
   queue with paging and polling, the case view and the plumbing of the actions.
   Data from the API reaches the page only through textContent; the few links are built from checked parts. */
(() => {
  "use strict";
  const { $, t, el } = Q, nm = Q.name;
  const STATUSES = ["routed", "business_responded", "in_review", "settled", "resolved", "rejected"];
  const OPEN = ["routed", "business_responded", "in_review"];
  const FLAGS = ["business_overdue", "agency_overdue"];
  const ACTORS = ["consumer", "system", "agency", "business", "admin"];
  const OFFERS = ["refund", "replacement", "repair", "apology", "other"];
  const DECISIONS = ["violation_confirmed", "not_confirmed", "settled"];
  const METHODS = ["category", "rules", "sector", "default"];
  const PAGE = 50, POLL_MS = 60000;

  // A message is {k: key, n?: value or {kk, ru, en}}, {m: the server's own text} or a list of them, so that it
  // can be drawn again in another language.
  const say = (m) => (!m ? "" : Array.isArray(m) ? m.map(say).filter(Boolean).join(" ")
    : [m.k && t(m.k, m.n && typeof m.n === "object" ? nm(m.n) : m.n), m.m].filter(Boolean).join(" "));
  const hhmm = (d) => new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Almaty", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23" }).format(d);
  const known = (list, v) => list.includes(v);
  const statusText = (x) => nm(x.status_label) || (known(STATUSES, x.status) ? t("st_" + x.status) : x.status || "");
  // Timeline notes carry ids (an offer, a decision) or free text (a reason); ids are shown as words.
  const noteText = (n) => (known(OFFERS, n) ? t("offer_" + n) : known(DECISIONS, n) ? t("dec_" + n) : n);
  const flagsOf = (x) => FLAGS.filter((f) => x.flags && x.flags[f] === true);

  function explain(e) {
    if (e.net) return { k: "e_network" };
    if (e.status >= 500) return { k: "e_server" };
    if (e.status === 429) return { k: "e_busy" };
    if (e.status === 403) return { k: "e_forbidden" };
    if (e.status === 404) return { k: "e_not_found" };
    return { m: (e.error && e.error.message) || String(e.status) };
  }

  // The key lives in sessionStorage only: it goes when the tab closes and is never written to localStorage or
  // a cookie. Where sessionStorage is blocked it stays in this page's memory.
  function keyStore(role) {
    const name = "qalqan.key." + role;
    let mem = null;
    return {
      get() { try { return sessionStorage.getItem(name) || mem; } catch (e) { return mem; } },
      set(v) {
        mem = v || null;
        try { if (v) sessionStorage.setItem(name, v); else sessionStorage.removeItem(name); } catch (e) { /* memory only */ }
      },
    };
  }

  /* cfg: {role: "agency"|"business", path: "/agency/complaints", filters: ["status", "region"?],
     dues: [summary fields with a due date], actions(detail, ctx): shows what the caller may do now,
     forms: ids of the action forms, reset on every case} */
  function start(cfg) {
    const store = keyStore(cfg.role);
    let key = store.get();
    let catalog = null;
    // queue
    let items = new Map(), order = [], marks = new Map(), cursor = null, more = false, gen = 0, busy = false;
    let loaded = false, polled = null, qProblem = null, lastCase = null, focusNext = null;
    // case
    let caseId = null, detail = null, caseProblem = null, caseMsg = null, caseOk = null, caseGen = 0;
    let errs = {}, topOk = null, view = null;

    // ---- requests: every one carries the key; a 401 anywhere means the key is gone, so back to the prompt ----
    async function call(path, body) {
      try {
        return await Q.api(path, body, { Authorization: "Bearer " + key });
      } catch (e) {
        if (e.status === 401) { signOut({ k: "e_key_rejected" }, true); e.handled = true; }
        throw e;
      }
    }

    async function loadCatalog() {
      try { catalog = await Q.api("/catalog"); } catch (e) { catalog = null; }
      fillRegions();
      if (detail) renderCase();
    }
    function fillRegions() {
      const sel = $("f_region");
      if (!sel) return;
      const v = sel.value, coll = new Intl.Collator(Q.lang);
      // Sort by the proper name: "г. Алматы" under А, as the form does.
      const bare = (s) => s.replace(/^(г\.|область)\s+/, "");
      const regions = (catalog ? catalog.regions : []).map((r) => [r.code, nm(r.name)])
        .sort((a, b) => coll.compare(bare(a[1]), bare(b[1])));
      sel.textContent = "";
      sel.add(new Option(t("all_regions"), ""));
      for (const [code, name] of regions) sel.add(new Option(name, code));
      sel.value = v;
    }

    // ---- views: the key prompt, the queue, one case ----
    function show(v) {
      view = v;
      $("signin").hidden = v !== "signin";
      $("in").hidden = v === "signin";
      $("queue").hidden = v !== "queue";
      $("case").hidden = v !== "case";
    }
    function route() {
      const m = /^#case=(.+)$/.exec(location.hash);
      let id = null;
      try { id = m && decodeURIComponent(m[1]); } catch (e) { /* a malformed link opens the queue */ }
      if (!key) { show("signin"); renderTop(); return; }
      if (id) return openCase(id);
      const from = view;
      show("queue");
      renderTop();
      if (!loaded && !busy && !qProblem) loadPage(true);
      if (from === "case") focusItem();
    }
    // Back from a case: to the case's line in the list, or to whatever the case view asked for.
    function focusItem() {
      const a = lastCase && [...document.querySelectorAll("#list a[data-id]")].find((x) => x.dataset.id === lastCase);
      (focusNext || a || $("queue_h")).focus();
      focusNext = null;
    }

    // ---- sign in and out ----
    async function signIn(ev) {
      ev.preventDefault();
      const k = $("key").value.trim().replace(/^Bearer\s+/i, "");
      // Keys are printable ASCII; anything else could not even be sent as a header (fetch would throw, and the
      // page would wrongly blame the connection).
      setErr("key", !k ? { k: "e_key_empty" } : /^[\x21-\x7e]+$/.test(k) ? null : { k: "e_key_rejected" });
      if (errs.key) return $("key").focus();
      const btn = $("signin").querySelector("button");
      btn.disabled = true;
      key = k;
      topOk = null;
      try {
        // The first page of the queue both checks the key and fills the screen.
        const r = await call(cfg.path + "?" + query(false));
        store.set(key);
        $("key").value = "";
        resetQueue();
        accept(r, false);
        show("queue");
        renderTop();
        renderQueue();
        route();
        if (view === "queue") $("queue_h").focus();
      } catch (e) {
        if (e.handled) return; // 401: signOut() put the message under the field
        key = null;
        setErr("key", e.status === 403 ? { k: "e_key_role_" + cfg.role } : explain(e));
        $("key").focus();
      } finally {
        btn.disabled = false;
      }
    }
    function signOut(why, asError) {
      key = null;
      store.set(null);
      resetQueue();
      caseId = detail = caseProblem = caseMsg = caseOk = null;
      caseGen++;
      resetForms();
      if (/^#case=/.test(location.hash)) history.replaceState(null, "", location.pathname + location.search);
      setErr("key", asError ? why : null);
      topOk = asError ? null : why;
      show("signin");
      renderTop();
      $("key").focus();
    }

    // ---- the queue: pages by cursor; polling is the same call with the last cursor ----
    function resetQueue() {
      gen++;
      items = new Map();
      order = [];
      marks = new Map();
      cursor = null;
      more = false;
      busy = false;
      loaded = false;
      polled = null;
      qProblem = null;
    }
    function query(withCursor) {
      const q = new URLSearchParams({ limit: String(PAGE) });
      for (const f of cfg.filters) if ($("f_" + f).value) q.set(f, $("f_" + f).value);
      if (withCursor && cursor) q.set("cursor", cursor);
      return q.toString();
    }
    // The queue is ordered by last change, oldest first. A page shorter than the limit is its end; the cursor it
    // returns then asks for "anything new or changed since", so "show more" and "check for new" are one call.
    async function loadPage(reset) {
      if (reset) resetQueue();
      const g = gen, polling = !reset && !more;
      busy = true;
      qProblem = null;
      renderQueue();
      try {
        const r = await call(cfg.path + "?" + query(!reset));
        if (g !== gen) return;
        const n = accept(r, polling);
        if (polling) polled = { at: new Date(), n };
      } catch (e) {
        if (g !== gen || e.handled) return;
        // A stale or foreign cursor: start the queue again rather than show an error.
        if (e.error && e.error.code === "invalid_cursor" && !reset) return loadPage(true);
        qProblem = explain(e);
      } finally {
        if (g === gen) { busy = false; renderQueue(); }
      }
    }
    function accept(r, polling) {
      const list = (r && r.items) || [];
      let n = 0;
      for (const s of list) {
        if (!s || typeof s.id !== "string") continue;
        // After a cursor the server returns every change; one that left the status filter is dropped here.
        if (s.in_filter === false || !matches(s)) { drop(s.id); continue; }
        const old = items.get(s.id);
        if (old && old.updated_at === s.updated_at && old.status === s.status) { items.set(s.id, s); continue; }
        if (polling) { marks.set(s.id, old && marks.get(s.id) !== "new" ? "changed" : "new"); n++; }
        put(s);
      }
      loaded = true;
      if (r && r.next_cursor) cursor = r.next_cursor;
      more = !!(r && r.next_cursor) && list.length >= PAGE;
      return n;
    }
    // The list follows the server's order: a changed case moves to the end, as it does in the feed.
    function put(s) {
      const i = order.indexOf(s.id);
      if (i >= 0) order.splice(i, 1);
      items.set(s.id, s);
      if (!matches(s)) { items.delete(s.id); marks.delete(s.id); return; }
      order.push(s.id);
    }
    // The status filter, applied to cases we changed ourselves and to polled changes (marked in_filter).
    function matches(s) {
      const f = $("f_status") ? $("f_status").value : "";
      return !f || (f === "open" ? OPEN.includes(s.status) : s.status === f);
    }
    function drop(id) {
      const i = order.indexOf(id);
      if (i >= 0) order.splice(i, 1);
      items.delete(id);
      marks.delete(id);
    }

    function renderQueue() {
      const ul = $("list");
      ul.textContent = "";
      for (const id of order) ul.append(itemEl(items.get(id), marks.get(id)));
      $("more").hidden = !more;
      $("check").hidden = more || !!qProblem;
      $("more").disabled = $("check").disabled = busy;
      $("qload").textContent = busy ? t("loading") : "";
      const values = cfg.filters.map((f) => $("f_" + f).value).filter(Boolean);
      const empty = $("empty");
      empty.hidden = busy || !!qProblem || order.length > 0;
      empty.textContent = t(!values.length ? "empty_" + cfg.role
        : values.length === 1 && values[0] === "open" ? "empty_open" : "empty_filtered");
      $("polled").textContent = polled
        ? t("checked_at", hhmm(polled.at)) + " " + (polled.n ? t("checked_n", polled.n) : t("checked_none")) : "";
      renderWho();
      renderTop();
    }
    function itemEl(s, mark) {
      const li = el("li", "item" + (s.overdue ? " late" : ""));
      const tags = li.appendChild(el("p", "tags"));
      tags.append(badge(s));
      if (mark) tags.append(el("span", "chip mark", t("m_" + mark)));
      chips(tags, s);
      const h = li.appendChild(el("h3"));
      const a = h.appendChild(el("a", null, s.outlet ? s.outlet.name : (s.business && s.business.name) || s.id));
      a.href = "#case=" + encodeURIComponent(s.id);
      a.dataset.id = s.id;
      const meta = [s.category && nm(s.category.name), s.region && nm(s.region.name), Q.date(s.created_at)];
      li.append(el("p", "meta", meta.filter(Boolean).join(" · ")));
      if (s.excerpt) li.append(el("p", "ex", s.excerpt));
      const due = dues(s);
      for (const [k, v] of due) li.append(el("p", "due", t(k) + ": " + v));
      li.append(el("p", "cid mono", s.id));
      return li;
    }
    function badge(x) {
      return el("span", "st st-" + (known(STATUSES, x.status) ? x.status : "x"), statusText(x));
    }
    function chips(box, x) {
      const f = flagsOf(x);
      for (const name of f) box.append(el("span", "chip bad", t("flag_" + name)));
      if (x.overdue && !f.length) box.append(el("span", "chip bad", t("overdue")));
    }
    const DUES = { business_due_at: "due_business", agency_due_at: "due_agency" };
    function dues(x) {
      return cfg.dues.filter((f) => x[f]).map((f) => [DUES[f], Q.date(x[f], true)]);
    }
    // Whose queue this is, from the data: a key has no other way to say whom it belongs to.
    function renderWho() {
      const any = detail || items.get(order[0]);
      const who = !key || !any ? "" : cfg.role === "agency" ? nm(any.agency && any.agency.name)
        : (any.business && any.business.name) || "";
      $("who").textContent = who;
      $("who").hidden = !who;
    }
    function renderTop() {
      const box = $("msg");
      box.textContent = "";
      if (qProblem && view === "queue") {
        box.append(el("p", "strong", say(qProblem)));
        const b = box.appendChild(el("button", "btn small", t("retry")));
        b.type = "button";
        b.onclick = () => loadPage(!order.length);
      }
      $("ok").textContent = say(topOk);
    }

    // ---- one case ----
    async function openCase(id, keep) {
      const fresh = id !== caseId;
      if (fresh) { detail = null; caseOk = null; resetForms(); }
      if (!keep) caseMsg = null;
      caseId = lastCase = id;
      caseProblem = null;
      topOk = null;
      show("case");
      renderTop();
      const g = ++caseGen;
      $("case_load").textContent = t("loading");
      renderCase();
      try {
        const d = await call(cfg.path + "/" + encodeURIComponent(id));
        if (g !== caseGen) return;
        setDetail(d);
      } catch (e) {
        if (g !== caseGen || e.handled) return;
        caseProblem = explain(e);
        if (e.status === 404) { drop(id); renderQueue(); }
      }
      $("case_load").textContent = "";
      renderCase();
      if (!keep) ($("case_h") || $("case_msg")).focus();
    }
    function setDetail(d) {
      detail = d;
      if (items.has(d.id)) { put(d); marks.delete(d.id); }
      renderQueue();
    }
    function renderCase() {
      const m = $("case_msg");
      m.textContent = "";
      const problem = caseProblem || caseMsg;
      if (problem) {
        m.append(el("p", "strong", say(problem)));
        if (caseProblem && caseProblem.k !== "e_not_found") {
          const b = m.appendChild(el("button", "btn small", t("retry")));
          b.type = "button";
          b.onclick = () => openCase(caseId);
        }
      }
      $("case_ok").textContent = say(caseOk);
      $("case_body").hidden = !detail;
      renderFacts();
      renderHistory();
      if (detail) cfg.actions(detail, ctx);
      renderWho();
      renderErrs();
    }

    function renderFacts() {
      const box = $("facts");
      box.textContent = "";
      const d = detail;
      if (!d) return;
      const head = box.appendChild(el("div", "panel"));
      const h = head.appendChild(el("h2", null, t("case_h", d.id)));
      h.id = "case_h";
      h.tabIndex = -1;
      const tags = head.appendChild(el("p", "tags"));
      tags.append(badge(d));
      chips(tags, d);
      if (d.kind === "appeal" || d.kind === "signal") head.append(el("p", "hint", t("kind_" + d.kind)));
      // What the consumer wrote comes first: it is what the reader opened the case for.
      head.append(el("h3", "sub", t("text_h")));
      const q = head.appendChild(el("blockquote", "said", d.text || ""));
      if (["kk", "ru", "en"].includes(d.language)) q.lang = d.language;
      q.dir = "auto";

      const dl = section(box, "details_h").appendChild(el("dl", "kv"));
      row(dl, "sent_at", Q.date(d.created_at));
      row(dl, "incident_at", d.incident_at && Q.date(d.incident_at));
      const o = d.outlet;
      row(dl, "outlet", o ? [o.name, o.address, o.display_code || o.code] : [t("no_outlet")]);
      if (d.business) row(dl, "seller", [d.business.name, d.business.bin && t("bin") + " " + d.business.bin]);
      row(dl, "region", d.region && nm(d.region.name));
      row(dl, "sector", d.sector && nm(d.sector.name));
      row(dl, "category", d.category && nm(d.category.name));
      row(dl, "agency", d.agency && nm(d.agency.name));
      for (const f of ["business_due_at", "agency_due_at"]) {
        const late = f === "business_due_at" ? d.flags && d.flags.business_overdue : d.flags && d.flags.agency_overdue;
        if (d[f]) row(dl, DUES[f], Q.date(d[f], true), { late });
      }

      if (d.routing && cfg.role === "agency") {
        const r = section(box, "routing_h"), m = d.routing.method;
        const rl = r.appendChild(el("dl", "kv"));
        row(rl, "method", known(METHODS, m) ? t("method_" + m) : m);
        if (typeof d.routing.confidence === "number") row(rl, "confidence", Math.round(d.routing.confidence * 100) + "%");
        // The router's own trace (matched phrases and scores): for the agent who checks why it came here.
        if (d.routing.explanation) r.append(el("p", "trace mono", d.routing.explanation));
      }

      const resp = section(box, "response_h");
      const br = d.business_response;
      if (br) {
        const rl = resp.appendChild(el("dl", "kv"));
        row(rl, "offer", known(OFFERS, br.offer) ? t("offer_" + br.offer) : br.offer, { cls: "strong" });
        row(rl, "replied_at", Q.date(br.at));
        resp.append(el("blockquote", "said", br.message || ""));
      } else {
        resp.append(el("p", "hint", t("no_response")));
      }

      if (d.feedback) {
        const fb = section(box, "feedback_h"), f = d.feedback;
        fb.append(el("p", "strong", t(f.accepted ? "fb_accepted" : "fb_rejected")));
        if (f.stars) {
          const s = fb.appendChild(el("p", "stars", "★".repeat(f.stars) + "☆".repeat(Math.max(0, 5 - f.stars))));
          s.setAttribute("role", "img");
          s.setAttribute("aria-label", t("stars", f.stars));
        }
        if (f.comment) fb.append(el("blockquote", "said", f.comment));
      }

      if (d.decision) {
        const dc = section(box, "decision_h");
        const x = d.decision;
        dc.append(el("p", "strong", known(DECISIONS, x.decision) ? t("dec_" + x.decision) : x.decision || ""));
        if (x.result) dc.append(el("p", "hint", t("result_label")), el("blockquote", "said", x.result));
        if (x.at) dc.append(el("p", "hint", Q.date(x.at)));
      }
      if (d.rejection) {
        const rj = section(box, "st_rejected");
        rj.append(el("p", "hint", t("reason")));
        rj.append(el("blockquote", "said", d.rejection.reason || ""));
        if (d.rejection.at) rj.append(el("p", "hint", Q.date(d.rejection.at)));
      }

      const c = section(box, "contact_h"), ct = d.contact;
      if (ct && (ct.name || ct.phone || ct.email)) {
        const cl = c.appendChild(el("dl", "kv"));
        row(cl, "c_name", ct.name);
        if (ct.phone) linkRow(cl, "c_phone", ct.phone, "tel:" + String(ct.phone).replace(/[^\d+]/g, ""));
        if (ct.email) linkRow(cl, "c_email", ct.email, "mailto:" + encodeURIComponent(ct.email).replace(/%40/g, "@"));
        if (cfg.role === "agency" && d.share_contact_with_business) c.append(el("p", "hint", t("c_shared")));
      } else {
        c.append(el("p", "hint", t(cfg.role === "agency" ? "no_contact" : "contact_not_shared")));
      }
    }
    function section(box, titleKey) {
      const s = box.appendChild(el("section", "panel"));
      s.append(el("h3", null, t(titleKey)));
      return s;
    }
    // A row is left out when it has no value, so an absent field never prints an empty label.
    // opts: {cls: class of the value, late: the date has passed (flagged by the server)}.
    function row(dl, labelKey, value, opts = {}) {
      const lines = (Array.isArray(value) ? value : [value]).filter((v) => v != null && v !== "");
      if (!lines.length) return;
      const div = dl.appendChild(el("div", opts.late ? "late" : null));
      div.append(el("dt", null, t(labelKey)));
      const dd = div.appendChild(el("dd", opts.cls || null));
      if (opts.late) dd.append(el("span", "chip bad", t("overdue")), " ");
      if (lines.length === 1) dd.append(String(lines[0]));
      else lines.forEach((v, i) => dd.append(el("span", i ? "line" : "line strong", String(v))));
    }
    function linkRow(dl, labelKey, text, href) {
      const div = dl.appendChild(el("div"));
      div.append(el("dt", null, t(labelKey)));
      const a = div.appendChild(el("dd")).appendChild(el("a", null, text));
      a.href = href;
    }
    function renderHistory() {
      const box = $("history");
      box.textContent = "";
      if (!detail) return;
      const s = section(box, "history_h");
      const ol = s.appendChild(el("ol", "timeline"));
      ol.setAttribute("role", "list");
      const steps = (detail.timeline || []).slice().sort((a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0));
      for (const x of steps) {
        const li = ol.appendChild(el("li"));
        const time = li.appendChild(el("time", null, Q.date(x.at)));
        time.dateTime = x.at || "";
        li.append(el("span", "strong", nm(x.label) || x.type || ""));
        const who = known(ACTORS, x.actor) ? t("actor_" + x.actor) : "";
        const agency = x.agency ? nm(x.agency.name) : "";
        if (who || agency) li.append(el("span", "hint", [who, agency].filter(Boolean).join(" · ")));
        if (x.note) li.append(el("span", "note-line", noteText(x.note)));
      }
    }

    // ---- actions: agency.js and business.js call these ----
    function setErr(id, m) {
      if (m) errs[id] = m; else delete errs[id];
      Q.fieldErr(id, say(m));
    }
    function renderErrs() { for (const id of Object.keys(errs)) Q.fieldErr(id, say(errs[id])); }
    function resetForms() {
      for (const id of cfg.forms) {
        const f = $(id);
        f.reset();
        for (const e of f.querySelectorAll("[id$='-e']")) setErr(e.id.slice(0, -2), null);
        const d = f.closest("details");
        if (d) d.open = false;
      }
    }
    // Sends one action. Resolves with the answer, or null after showing why it failed:
    // 409 (someone else moved the case, or it can't move that way) shows the server's words and reloads the case;
    // 422 puts each field's message under that field.
    async function send(btn, path, body, fields) {
      for (const id of Object.values(fields)) setErr(id, null);
      caseMsg = caseOk = null;
      renderCase();
      const label = btn.textContent;
      btn.disabled = true;
      btn.textContent = t("sending");
      try {
        return await call(path, body);
      } catch (e) {
        if (e.handled) return null;
        if (e.status === 409) {
          caseMsg = [{ m: e.error.message || "" }, { k: "conflict" }];
          await openCase(caseId, true);
          $("case_msg").focus();
          return null;
        }
        let placed = false;
        if (e.status === 422) {
          for (const [path, f] of Object.entries(e.error.fields || {})) {
            if (fields[path]) { setErr(fields[path], { m: (f && f.message) || e.error.message }); placed = true; }
          }
        }
        if (placed) {
          const first = Object.values(fields).find((id) => errs[id]);
          $(first).focus();
        } else {
          caseMsg = explain(e);
          renderCase();
          $("case_msg").focus();
        }
        return null;
      } finally {
        btn.disabled = false;
        btn.textContent = label;
      }
    }
    // After a successful action: the new state, a spoken confirmation, and focus on it (the button that was
    // pressed may be gone now).
    function done(d, okKey) {
      caseOk = { k: okKey };
      resetForms();
      setDetail(d);
      renderCase();
      $("case_ok").focus();
    }
    // The case left this queue (rerouted): back to the queue, which says where it went.
    function gone(id, m) {
      drop(id);
      topOk = m;
      caseId = detail = null;
      lastCase = null;
      caseGen++;
      focusNext = $("ok");
      location.hash = "";
      renderQueue();
    }
    // Client checks mirror the server's (required, at most `max` characters): code points, as Python counts.
    function need(id, max) {
      const v = $(id).value.trim(), n = [...v].length;
      setErr(id, !n ? { k: "e_required" } : n > max ? { k: "e_too_long", n: max } : null);
      return n && n <= max ? v : null;
    }
    function choose(name, errId, msgKey) {
      const r = document.querySelector("input[name=" + name + "]:checked");
      setErr(errId, r ? null : { k: msgKey });
      return r ? r.value : null;
    }
    const ctx = {
      send, done, gone, need, choose, setErr, say,
      get catalog() { return catalog; },
      get detail() { return detail; },
      path: (id, tail) => cfg.path + "/" + encodeURIComponent(id) + tail,
    };

    // ---- wiring ----
    $("signin").addEventListener("submit", signIn);
    $("key").addEventListener("input", () => setErr("key", null));
    $("signout").addEventListener("click", () => signOut({ k: "signed_out" }));
    $("more").addEventListener("click", () => loadPage(false));
    $("check").addEventListener("click", () => loadPage(false));
    for (const f of cfg.filters) $("f_" + f).addEventListener("change", () => loadPage(true));
    $("filters").addEventListener("submit", (ev) => ev.preventDefault());
    addEventListener("hashchange", route);
    // Polls while the queue is on screen and complete; a hidden tab costs the server nothing.
    setInterval(() => {
      if (key && view === "queue" && !busy && !more && !qProblem && document.visibilityState === "visible") loadPage(false);
    }, POLL_MS);
    Q.onLang(() => {
      fillRegions();
      renderQueue();
      renderCase();
    });

    fillRegions();
    loadCatalog();
    route();
    // The page shows itself once its words are in place, so nothing on it moves as it loads.
    $("main").hidden = false;
    return ctx;
  }

  window.Console = { start, say };
})();
