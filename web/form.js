/* The complaint form: outlet lookup, live routing preview, client-side validation (same limits as the
   server), idempotent submission; the result, and a complaint kept offline, are app.js's (loaded after a send). */
(() => {
  "use strict";
  const { $, t, el, api } = Q, nm = Q.name;
  const qs = new URLSearchParams(location.search);
  const FROM_QR = qs.get("o"), CHANNEL = qs.get("ch") === "qr" ? "qr" : "web";
  const form = $("f"), send = $("send"), text = $("text"), codeIn = $("outlet_code");
  const CONTACT = ["contact_name", "contact_phone", "contact_email"];
  const FIELDS = ["outlet_code", "business_bin", "business_name", "business_region", "category", "text",
    "incident_at", "share_contact_with_business", "publish_consent", ...CONTACT];
  // A message is {k: i18n key} or {m: text from the server}, so it can be re-rendered on a language switch.
  let catalog = null, outlet = null, placeMsg = null, errs = {}, summary = null;
  // netCode: a well-formed code that could not be looked up offline; the complaint may still name it (it is kept
  // and sent later, and the server checks the code then).
  let key = null, sending = false, preview = null, previewSeq = 0, previewTimer, codeTimer, netCode = null;
  // last: the newest preview and its request; ask: the question put, {cands, answer, err}
  let last = null, ask = null;
  // Server field errors by reason code: our own message where it says the same (it follows a language switch),
  // else the server's (in the page's language), so a reason we did not foresee is never shown as another.
  const SERVER_MSG = {
    text: { string_too_short: "e_text_short", missing: "e_text_short", string_too_long: "e_text_long", no_words: "e_text_words" },
    contact_phone: { invalid_phone: "e_phone", string_too_long: "e_phone" },
    contact_email: { invalid_email: "e_email", string_too_long: "e_email" },
    contact_name: { string_too_long: "e_cname" },
    business_bin: { invalid_bin: "e_bin_sum", string_pattern_mismatch: "e_bin" },
    business_name: { string_too_short: "e_bname", string_too_long: "e_bname", missing: "e_bname" },
    business_region: { missing: "region_ph", unknown_region: "region_ph" },
    incident_at: { in_future: "e_when", too_old: "e_when_old" },
  };
  const LETTER = /\p{L}/u; // the server's no_words rule: a description needs at least one letter
  const say = (m) => [m.k && t(m.k, m.n), m.m].filter(Boolean).join(" ");
  const chars = (s) => [...s].length; // code points, as the server (Python len) counts them

  // ---- catalogue: categories and regions, names in the UI language ----
  async function loadCatalog() {
    try {
      catalog = await api("/catalog");
      if (summary && summary.catalog) setSummary(null);
    } catch (e) {
      setSummary({ h: { k: "e_catalog" }, catalog: true });
    }
    fillSelects();
  }
  function fillSelects() {
    const coll = new Intl.Collator(Q.lang);
    const cats = catalog ? catalog.categories.filter((c) => c.id !== "other") : [];
    const other = catalog && catalog.categories.find((c) => c.id === "other");
    cats.push({ id: "other", name: other ? other.name : null });
    fill($("category"), "cat_none", cats.map((c) => [c.id, nm(c.name) || t("other")]));
    const regions = catalog ? catalog.regions.map((r) => [r.code, nm(r.name)]) : [];
    // Sort by the proper name: "г. Алматы" under А and "область Абай" under А, not under г and о.
    const key = (s) => s.replace(/^(г\.|область)\s+/, "");
    fill($("business_region"), "region_ph", regions.sort((a, b) => coll.compare(key(a[1]), key(b[1]))));
  }
  function fill(sel, first, items) {
    const v = sel.value;
    sel.textContent = "";
    sel.add(new Option(t(first), ""));
    for (const [id, label] of items) sel.add(new Option(label, id));
    sel.value = v;
  }

  // ---- outlet: from the QR link, or typed from the sticker ----
  const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  // Same reading as the server (domain/codes.py): NFKC, Cyrillic look-alikes (CYR[i] as LAT[i]), O->0, I/L->1.
  const CYR = "АВЕКМНОРСТХУҮҰЗІӀ", LAT = "ABEKMH0PCTXYYY311";
  const normCode = (s) => s.normalize("NFKC").toUpperCase().replace(/[\s\-_.\u2010-\u2014]/g, "")
    .replace(/[АВЕКМНОРСТХУҮҰЗІӀ]/g, (c) => LAT[CYR.indexOf(c)]).replace(/O/g, "0").replace(/[IL]/g, "1");
  function codeProblem(c) {
    if (!/^[0-9A-HJKMNP-TV-Z]{8}$/.test(c)) return "e_code";
    let v = 0;
    for (const ch of c.slice(0, 7)) v = v * 32 + ALPHABET.indexOf(ch);
    v %= 37;
    return v < 32 && ALPHABET[v] === c[7] ? null : "e_outlet_bad";
  }
  const lookupError = (e) => (e.net ? "e_network" : e.error.code === "invalid_outlet_code" ? "e_outlet_bad"
    : e.status === 404 ? "e_outlet_nf" : e.status === 429 ? "e_busy" : "e_server");

  async function lookup(raw, fromQr) {
    const code = normCode(raw), status = $("code_status");
    let problem = codeProblem(code);
    setOutlet(null);
    netCode = null;
    if (fromQr && !problem) cardLoading(true);
    if (!problem) {
      if (!fromQr) status.textContent = t("checking");
      try {
        const o = await api("/outlets/" + encodeURIComponent(code));
        if (fromQr || normCode(codeIn.value) === code) setOutlet(o, fromQr);
        return;
      } catch (e) {
        problem = lookupError(e);
        if (e.net) netCode = code;
      } finally {
        status.textContent = "";
        cardLoading(false);
      }
    }
    if (!fromQr) {
      if (normCode(codeIn.value) === code) setCodeErr({ k: problem }); // else the answer is for an older entry
      return;
    }
    // The QR link did not give an outlet: fall back to typing the code or entering the seller.
    placeMsg = [{ k: "qr_fail" }, { k: problem }];
    codeIn.value = code.length === 8 ? code.slice(0, 4) + "-" + code.slice(4) : raw;
    $("choice").hidden = false;
    renderMode();
    renderPlace();
  }
  function setCodeErr(m) {
    if (m) errs.outlet_code = m; else delete errs.outlet_code;
    Q.fieldErr("outlet_code", m && say(m));
  }
  // From a sticker the card, the rating and the quick rating show, loading, before the first paint, so the
  // lookup's answer fills them in place instead of pushing the form down.
  let cardBusy = false;
  function cardLoading(on) {
    cardBusy = on;
    $("card").setAttribute("aria-busy", on);
    if (on) {
      $("card").hidden = $("change").hidden = $("qr").hidden = false;
      $("choice").hidden = true;
    }
    renderPlace();
  }
  function setOutlet(o, fromQr) {
    outlet = o;
    if (o) { placeMsg = null; setCodeErr(null); }
    $("card").hidden = $("qr").hidden = !o;
    $("change").hidden = !fromQr;
    if (fromQr && o) $("choice").hidden = true;
    resetRate();
    renderPlace();
    schedulePreview(0);
  }
  function renderPlace() {
    const p = $("place_msg");
    p.hidden = !placeMsg;
    p.textContent = placeMsg ? placeMsg.map(say).join(" ") : "";
    renderRating();
    if (cardBusy && !outlet) {
      $("card_name").textContent = t("checking");
      for (const id of ["card_addr", "card_biz", "card_region", "card_sector", "card_code"]) $(id).textContent = "\u2026";
      return;
    }
    if (!outlet) return;
    $("card_name").textContent = outlet.name || "";
    $("card_addr").textContent = outlet.address || "";
    $("card_biz").textContent = (outlet.business && outlet.business.name) || "";
    $("card_region").textContent = outlet.region ? nm(outlet.region.name) : "";
    $("card_sector").textContent = outlet.sector ? nm(outlet.sector.name) : "";
    $("card_code").textContent = outlet.display_code || outlet.code;
    $("card_record").href = "outlet.html?code=" + encodeURIComponent(outlet.code);
    const tg = /^https:\/\/t\.me\/\w+\?start=\w+$/.test(outlet.telegram_url || "") ? outlet.telegram_url : "";
    $("card_tg").hidden = !tg;
    $("card_tg").href = tg || "#";
  }
  const mode = () => (form.elements.mode.value === "none" ? "none" : "code");
  function renderMode() {
    $("by_code").hidden = mode() !== "code";
    $("by_biz").hidden = mode() !== "none";
    $("card").hidden = !outlet || mode() !== "code";
    $("qr").hidden = $("card").hidden;
  }

  // ---- the outlet's rating (from its card) and a quick rating without a complaint ----
  // The rating's controls sit in the complaint form but belong to form #rf: Enter on a star sends the rating.
  const rf = $("rf"), MAX = 500;
  // rateKey: the key of an attempt of unknown fate, and what it sent: the same rating reuses it (counted once).
  let device = null, rateMsg = null, rateErrs = {}, rateKey = null, rating = false, rated = false;
  // The star radios, built here as they show only with an outlet; renderRate words them.
  for (let i = 1; i <= 5; i++) {
    const l = $("qr_stars").lastElementChild.appendChild(el("label")), r = l.appendChild(el("input"));
    Object.assign(r, { type: "radio", name: "stars", id: l.htmlFor = "qs" + i, value: i }).setAttribute("form", "rf");
    l.append(el("span"), el("span", "vh"));
    l.children[1].setAttribute("aria-hidden", "true");
  }

  function renderRating() {
    const r = outlet && outlet.rating, parts = $("rt_parts"), li = (s) => parts.append(el("li", null, s));
    const pct = (c) => (c && c.share != null ? Math.round(c.share * 100) : null); // null: nothing to judge yet
    $("rt").hidden = !(r || (cardBusy && !outlet));
    parts.textContent = $("rt_stars").textContent = "";
    // Loading: two lines, as most answers have, so little moves when the card is filled in.
    if (!r) return void li($("rt_text").textContent = "\u2026");
    if (!r.published || r.score == null) {
      const held = r.reason === "held_for_review"; // else too_few: say why, not just "no rating"
      $("rt_text").textContent = t(held ? "rt_review" : "rt_few", r.min_count);
      return;
    }
    const n = Math.round(r.score), c = r.components || {}, time = pct(c.answered_in_time), done = pct(c.settled);
    $("rt_stars").textContent = "★".repeat(n) + "☆".repeat(5 - n); // hidden from screen readers: the number is read
    $("rt_text").textContent = t("fb_star", r.score.toFixed(1).replace(".", Q.lang === "en" ? "." : ","));
    li(t("rt_count", r.count));
    if (time !== null) li(t("rt_time", time));
    if (done !== null) li(t("rt_settled", done));
  }

  // 16 random bytes in base64url (22 characters): the Idempotency-Keys, and the device id.
  const randomId = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))).replace(/=+$/, "")
    .replace(/\+/g, "-").replace(/\//g, "_");
  // A random browser id naming no one, so the server allows one quick rating a day per device and outlet; kept in
  // localStorage (or for this page, if blocked).
  function deviceId() {
    try { device = device || localStorage.getItem("qalqan.device"); } catch (e) { /* blocked */ }
    if (!/^[\w-]{22,64}$/.test(device || "")) {
      device = randomId();
      try { localStorage.setItem("qalqan.device", device); } catch (e) { /* blocked */ }
    }
    return device;
  }
  function resetRate() {
    rf.reset();
    rateMsg = rateKey = null;
    rateErrs = {};
    rated = false;
    renderRate();
  }
  function renderRate() {
    const n = +rf.elements.stars.value;
    // A filled or hollow star, not colour alone, shows the choice; each radio is named "n of 5".
    document.querySelectorAll("#qr_stars label").forEach((l, i) => {
      l.classList.toggle("on", i < n);
      l.children[1].textContent = i < n ? "★" : "☆";
      l.children[2].textContent = t("fb_star", i + 1);
    });
    $("qr_in").hidden = rated;
    $("qr_msg").textContent = rateMsg ? say(rateMsg) : "";
    $("qr_msg").className = rateMsg ? rateMsg.c : "";
    for (const id of ["qr_stars", "qr_comment"]) Q.fieldErr(id, rateErrs[id] && say(rateErrs[id]));
    $("qr_send").disabled = rating;
    $("qr_send").textContent = t(rating ? "sending" : "qr_send");
  }
  // Show the outcome and move focus to it: the first field to fix, else the message (the stars may be gone).
  function rateShown() {
    renderRate();
    $(rateErrs.qr_stars ? "qs1" : rateErrs.qr_comment ? "qr_comment" : "qr_msg").focus();
  }

  async function rate(ev) {
    ev.preventDefault();
    if (rating || !outlet) return;
    const stars = +rf.elements.stars.value, comment = $("qr_comment").value.trim(), code = outlet.code;
    rateErrs = {};
    rateMsg = null;
    if (!stars) rateErrs.qr_stars = { k: "e_fb_stars" };
    if (chars(comment) > MAX) rateErrs.qr_comment = { k: "e_fb_comment", n: MAX };
    if (!stars || rateErrs.qr_comment) return rateShown();
    const body = { stars, device_id: deviceId() }, sig = code + comment + stars;
    if (comment) body.comment = comment;
    if (!rateKey || rateKey.sig !== sig) rateKey = { key: randomId(), sig };
    rating = true;
    renderRate();
    try {
      const r = await api("/outlets/" + code + "/ratings", body, { "Idempotency-Key": rateKey.key });
      if (outlet && outlet.code === code) {
        rateKey = null;
        rated = true;
        rateMsg = r.held ? { k: "qr_held", c: "note" } : { k: "qr_thanks", c: "okmsg" };
        outlet.rating = r.rating || outlet.rating; // the rating with this one counted
        renderRating();
      }
    } catch (err) {
      if (outlet && outlet.code === code) rateFailed(err);
    } finally {
      rating = false;
      if (outlet && outlet.code === code) rateShown(); else renderRate();
    }
  }
  function rateFailed(err) {
    const e = err.error || {}, f = e.fields || {};
    // No answer, a fault or a throttle: the rating may have landed or may go through later, so the key stays.
    if (err.net || err.status >= 500) return void (rateMsg = { k: err.net ? "e_network" : "e_server", c: "alert" });
    if (err.status === 429 && e.code !== "limit_reached") return void (rateMsg = { k: "e_busy", c: "alert" });
    rateKey = null; // a definite refusal: nothing was counted
    if (e.code === "limit_reached") {
      rated = true; // already rated today: the stars would only be refused again
      return void (rateMsg = { k: "qr_limit", c: "note" });
    }
    if (f.stars) rateErrs.qr_stars = { k: "e_fb_stars" };
    if (f.comment) rateErrs.qr_comment = f.comment.code === "string_too_long" ? { k: "e_fb_comment", n: MAX } : { m: f.comment.message };
    rateMsg = f.stars || f.comment ? { k: "fix", c: "alert" } : { k: "qr_failed", m: e.message || String(err.status), c: "alert" };
  }

  // ---- routing preview: advisory, so failures are ignored ----
  function schedulePreview(ms) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, ms);
  }
  const previewBody = (category) => ({ text: text.value.trim(), category: category || undefined,
    outlet_code: outlet && usingOutlet() ? outlet.code : undefined });
  async function runPreview() {
    // With the question's answer, it shows where that answer sends the complaint.
    const body = previewBody($("category").value || (ask && ask.answer)), sig = JSON.stringify(body);
    if (chars(body.text) < 10) return showPreview(null);
    const n = ++previewSeq;
    try {
      const r = await api("/routing/preview", body);
      if (n === previewSeq && r && r.agency) { last = { sig, r }; showPreview(r); }
    } catch (e) { /* keep the last preview */ }
  }
  const low = (r) => typeof r.confidence === "number" && r.confidence < 0.4;
  const also = (r) => (r.secondary_agencies || []).map((a) => nm(a.name)).join(", ");
  const gist = (r) => r && [r.agency.id, low(r), also(r)].join();
  function showPreview(r) {
    // Re-render only on a real change, so screen readers do not repeat the same sentence on every keystroke.
    if (r && gist(r) === gist(preview)) return;
    preview = r;
    renderPreview();
  }
  function renderPreview() {
    const box = $("preview");
    box.textContent = "";
    if (!preview) return;
    const p = el("p", null, t("preview_to") + " ");
    p.append(el("strong", null, nm(preview.agency.name)));
    box.append(p);
    if (also(preview)) box.append(el("p", null, t("also") + ": " + also(preview)));
    if (low(preview)) box.append(el("p", "hint", t("preview_low")));
  }

  // ---- one question, once per form, when the router is unsure ----
  // The preview of this text and outlet (the live one if it matches): sure or unreachable (advice only), send;
  // unsure, ask for one of its likeliest categories or "as it is" (to triage).
  async function unsure() {
    const body = previewBody(), sig = JSON.stringify(body);
    if (!last || last.sig !== sig) {
      last = { sig, r: await api("/routing/preview", body).catch(() => ({})) };
      if (last.r.agency) showPreview(last.r);
    }
    const cands = (last.r.needs_category && last.r.candidates || []).filter((c) => c && c.id);
    if (!cands.length) return false;
    ask = { cands, answer: null };
    renderAsk();
    $("ask_0").focus();
    return true;
  }
  function renderAsk() {
    $("ask").hidden = !ask || !!$("category").value; // a category from the list answers it already
    if (!ask) return;
    $("ask_h").textContent = t("ask_h");
    $("ask_opts").textContent = "";
    [...ask.cands, { id: "" }].forEach((c, i) => {
      const d = $("ask_opts").appendChild(el("div", "choice")), r = d.appendChild(el("input"));
      d.append(el("label", null, c.id ? nm(c.name) : t("ask_none")));
      Object.assign(r, { type: "radio", name: "ask", id: d.lastChild.htmlFor = "ask_" + i, checked: ask.answer === c.id });
      r.onchange = () => { ask.answer = c.id; ask.err = false; Q.fieldErr("ask", ""); schedulePreview(0); };
    });
    Q.fieldErr("ask", ask.err ? t("e_ask") : "");
  }

  // ---- validation, with the server's limits ----
  function binOk(b) {
    const d = [...b].map(Number);
    const sum = (w) => w.reduce((s, x, i) => s + x * d[i], 0) % 11;
    let c = sum([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    if (c === 10) c = sum([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
    return c !== 10 && c === d[11];
  }
  const usingOutlet = () => $("choice").hidden || mode() === "code";
  // datetime-local values in the device's time; the server allows up to three years back.
  const localTime = (yearsBack = 0) => {
    const d = new Date();
    d.setFullYear(d.getFullYear() - yearsBack);
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  };

  function collect() {
    const e = {}, v = (id) => $(id).value.trim();
    const body = { language: Q.lang, channel: CHANNEL };
    if (usingOutlet()) {
      if (outlet) body.outlet_code = outlet.code;
      else if (netCode && normCode(codeIn.value) === netCode) body.outlet_code = netCode;
      else e.outlet_code = errs.outlet_code || { k: "e_code" };
    } else {
      const bin = v("business_bin").replace(/\s/g, ""), name = v("business_name"), region = v("business_region");
      if (!/^\d{12}$/.test(bin)) e.business_bin = { k: "e_bin" };
      else if (!binOk(bin)) e.business_bin = { k: "e_bin_sum" };
      if (chars(name) < 2 || chars(name) > 300) e.business_name = { k: "e_bname" };
      if (!region) e.business_region = { k: "region_ph" };
      body.business = { bin, name, region };
    }
    if (v("category")) body.category = v("category");
    body.text = v("text");
    const n = chars(body.text);
    if (n < 10 || n > 5000) e.text = { k: n < 10 ? "e_text_short" : "e_text_long" };
    else if (!LETTER.test(body.text)) e.text = { k: "e_text_words" };
    if (v("incident_at")) {
      body.incident_at = v("incident_at");
      if (body.incident_at > localTime()) e.incident_at = { k: "e_when" };
      else if (body.incident_at < localTime(3)) e.incident_at = { k: "e_when_old" };
    }
    const contact = {}, name = v("contact_name"), phone = v("contact_phone").replace(/[\s\-()]/g, ""), email = v("contact_email");
    if (name) { contact.name = name; if (chars(name) > 200) e.contact_name = { k: "e_cname" }; }
    if (phone) {
      if (!/^(\+7|8)\d{10}$/.test(phone)) e.contact_phone = { k: "e_phone" };
      contact.phone = "+7" + phone.slice(-10);
    }
    if (email) {
      contact.email = email;
      if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) e.contact_email = { k: "e_email" };
    }
    const hasContact = Object.keys(contact).length > 0;
    if (hasContact) body.contact = contact;
    body.share_contact_with_business = hasContact && $("share_contact_with_business").checked;
    body.publish_consent = $("publish_consent").checked;
    return [body, e];
  }

  // ---- errors: next to each field, plus a summary with links to the fields ----
  function setErrors(e, head, extra) {
    errs = e;
    renderErrors();
    const items = Object.keys(e).map((id) => [FIELDS.includes(id) && !$(id).closest("[hidden]") ? id : null, e[id]]);
    setSummary(head || items.length ? { h: head || { k: "fix" }, extra, items } : null);
  }
  function renderErrors() { for (const id of FIELDS) Q.fieldErr(id, errs[id] && say(errs[id])); }
  // In the summary a server message gets its field's label in front; our own messages name the field already.
  function itemText(id, m) {
    const label = id && !m.k && document.querySelector("label[for=" + id + "]");
    return (label ? label.textContent.replace(/\s+/g, " ").trim() + ": " : "") + say(m);
  }
  function setSummary(s) { summary = s; renderSummary(); }
  function renderSummary() {
    const box = $("msg");
    box.textContent = "";
    if (!summary) return;
    box.append(el("p", "strong", say(summary.h)));
    if (summary.extra) box.append(el("p", null, say(summary.extra)));
    if (summary.catalog) {
      const b = el("button", "btn small", t("retry"));
      b.type = "button";
      b.onclick = loadCatalog;
      box.append(b);
    }
    if (summary.items && summary.items.length) {
      const ul = el("ul");
      for (const [id, m] of summary.items) {
        const li = ul.appendChild(el("li"));
        if (!id) { li.textContent = say(m); continue; }
        const a = li.appendChild(el("a", null, itemText(id, m)));
        a.href = "#" + id;
        a.onclick = (ev) => { ev.preventDefault(); $(id).focus(); };
      }
      box.append(ul);
    }
  }

  // ---- submission ----
  async function submit(ev) {
    ev.preventDefault();
    if (sending) return;
    const [body, e] = collect();
    setErrors(e);
    if (Object.keys(e).length) return $("msg").focus();
    if (ask && !body.category) {
      if (ask.answer == null) {
        ask.err = true;
        renderAsk();
        return $("ask_0").focus();
      }
      if (ask.answer) body.category = ask.answer; // "" is the consumer's "send it as it is"
    }
    sending = true;
    send.disabled = true;
    send.textContent = t("sending");
    try {
      if (!ask && !body.category && await unsure()) return;
      key = key || randomId(); // one key per filled form: a retry or double click cannot create a second complaint
      const r = await api("/complaints", body, { "Idempotency-Key": key });
      key = null;
      await after().then(() => Q.app.done(r, place()), () => location.assign(Q.trackUrl(r)));
    } catch (err) {
      // No connection: the complaint is kept on the phone with its key and sent once the connection is back.
      if (err.net && await after().then(() => Q.app.keep(body, key, place()), () => false)) return void (key = null);
      failed(err);
      $("msg").focus();
    } finally {
      sending = false;
      send.disabled = false;
      send.textContent = t("submit");
    }
  }
  function failed(err) {
    // Nothing was stored, or we cannot tell: the same key makes a retry safe.
    if (err.net || err.status >= 500) return setErrors({}, { k: err.net ? "e_network" : "e_server" }, { k: "retry_hint" });
    // A 4xx is definite and nothing was created: the corrected form gets a fresh key (the server may remember
    // the rejection). After idempotency_key_reused the earlier attempt landed; a new key sends this one anew.
    const code = err.error.code;
    if (err.status !== 429) key = null;
    const e = {};
    for (const [path, f] of Object.entries(err.error.fields || {})) {
      const id = path.replace(/\./g, "_"), own = Object.hasOwn(SERVER_MSG, id) && f ? SERVER_MSG[id] : {};
      const k = f && Object.hasOwn(own, f.code) ? own[f.code] : null;
      e[id] = k ? { k } : { m: (f && f.message) || err.error.message || code };
    }
    const known = { outlet_not_found: "e_outlet_nf", invalid_outlet_code: "e_outlet_bad", idempotency_key_reused: "e_key_reused" }[code];
    const head = known ? { k: known } : err.status === 429 ? { k: "e_busy" } : Object.keys(e).length ? { k: "fix" }
      : { k: "rejected", m: err.error.message || String(err.status) };
    setErrors(e, head);
  }

  // What follows a send (the result, "my complaints", the offline queue) is in app.js, loaded only then.
  const after = () => Q.load("app-i18n.js").then(() => Q.load("app.js"));
  const place = () => (outlet ? { code: outlet.code, name: outlet.name } : netCode ? { code: netCode }
    : { name: $("business_name").value.trim() });

  // ---- wiring ----
  function contactChanged() {
    const any = CONTACT.some((id) => $(id).value.trim());
    const box = $("share_contact_with_business");
    box.disabled = !any;
    if (!any) box.checked = false;
    $("share-h").hidden = any;
  }
  function count() {
    const n = chars(text.value.trim());
    $("count").textContent = t("counter", n);
    $("count").classList.toggle("over", n > 5000);
  }

  form.addEventListener("submit", submit);
  rf.addEventListener("submit", rate);
  for (const r of rf.elements.stars) r.addEventListener("change", () => { delete rateErrs.qr_stars; renderRate(); });
  text.addEventListener("input", () => { count(); schedulePreview(600); });
  $("category").addEventListener("change", () => { renderAsk(); schedulePreview(0); });
  for (const id of CONTACT) $(id).addEventListener("input", contactChanged);
  for (const r of form.elements.mode) r.addEventListener("change", () => { renderMode(); schedulePreview(0); });
  $("find").addEventListener("click", () => lookup(codeIn.value));
  codeIn.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); lookup(codeIn.value); } });
  codeIn.addEventListener("input", () => {
    if (outlet) setOutlet(null);
    setCodeErr(null);
    clearTimeout(codeTimer);
    const c = normCode(codeIn.value);
    if (c.length === 8) codeTimer = setTimeout(() => lookup(c), 400);
  });
  $("change").addEventListener("click", () => {
    setOutlet(null);
    codeIn.value = "";
    $("choice").hidden = false;
    renderMode();
    codeIn.focus();
  });
  const when = $("incident_at");
  const limits = () => { when.max = localTime(); when.min = localTime(3); };
  limits();
  when.addEventListener("focus", limits);

  Q.onLang(() => {
    fillSelects();
    renderPlace();
    renderPreview();
    renderAsk();
    renderSummary();
    renderErrors();
    if (!sending) send.textContent = t("submit");
    count();
    renderRate();
  });

  // The scanner and its decoder load on the first press; typing the code stays possible.
  $("scan").hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  $("scan").addEventListener("click", () => Q.load("app-i18n.js").then(() => Q.load("scan.js")).then(() => Q.scan())
    .then((c) => { if (c) { codeIn.value = c; lookup(c); } }, () => setCodeErr({ k: "e_network" })));
  // Complaints kept offline earlier are sent from any page of the app, this one included.
  if (Q.kept()) after().catch(() => {});
  count();
  contactChanged();
  renderRate();
  fillSelects();
  loadCatalog();
  if (FROM_QR) lookup(FROM_QR, true);
  else {
    // ?seller=none: the QR help page's "complain without a code" link opens the no-sticker form.
    if (qs.get("seller") === "none") $("mode_none").checked = true;
    $("choice").hidden = false;
    renderMode();
  }
})();
