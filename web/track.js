/* The tracking page: where the complaint is, the seller's answer and offer, the consumer's answer to it
   (accept or reject, with stars), the agency's result, the due dates and the history.
   The id and token come in the URL fragment, so the static host never logs the token; the token goes to the
   API in a header, not the query string, so no access log along the way records it either. */
(() => {
  "use strict";
  const { $, t, el, api } = Q, nm = Q.name;
  const OFFERS = { refund: "offer_refund", replacement: "offer_replacement", repair: "offer_repair",
    apology: "offer_apology", other: "offer_other" };
  const DECISIONS = { violation_confirmed: "dec_violation_confirmed", not_confirmed: "dec_not_confirmed",
    settled: "dec_settled" };
  const FLAGS = { business_overdue: "f_business_overdue", agency_overdue: "f_agency_overdue" };
  const COMMENT_MAX = 2000; // the server's limit on the comment
  const FB_FIELDS = ["ans_accepted", "ans_stars", "ans_comment"];
  // A message is {k: i18n key} or {m: text from the server}, so it can be re-rendered on a language switch.
  let ref = null, data = null, problem = null, fbErrs = {}, fbHead = null, sending = false;
  const say = (m) => (m ? [m.k && t(m.k, m.n), m.m].filter(Boolean).join(" ") : "");
  const tokenHeader = () => ({ "X-Tracking-Token": ref.token });

  // Accepts a whole tracking link, a bare "id=…&token=…", or the current location.
  function parse(s) {
    for (const part of String(s).trim().split(/[#?]/).reverse()) {
      const p = new URLSearchParams(part);
      if (p.get("id") && p.get("token")) return { id: p.get("id").trim(), token: p.get("token").trim() };
    }
    return null;
  }
  const problemOf = (e) => (e.net ? "e_network" : e.status >= 500 ? "e_server" : e.status === 429 ? "e_busy" : "not_found");

  async function load() {
    ref = parse(location.hash);
    data = null;
    problem = null;
    $("paste").hidden = !!ref;
    render();
    if (!ref) return;
    $("loading").textContent = t("loading");
    try {
      data = await api("/complaints/" + encodeURIComponent(ref.id), null, tokenHeader());
    } catch (e) {
      // A wrong token is reported like a missing complaint, so both read "not found or the link is wrong".
      problem = problemOf(e);
      $("paste").hidden = problem !== "not_found";
    }
    $("loading").textContent = "";
    render();
    if (data) $("main").focus();
  }

  // ---- the consumer's answer to the seller's offer ----
  function collectFeedback() {
    const f = $("ans"), e = {}, body = {};
    const choice = f.elements.accepted.value, stars = Number(f.elements.stars.value);
    if (!choice) e.ans_accepted = { k: "e_fb_choice" };
    else body.accepted = choice === "yes";
    if (!(stars >= 1 && stars <= 5)) e.ans_stars = { k: "e_fb_stars" };
    else body.stars = stars;
    const comment = $("ans_comment").value.trim();
    if ([...comment].length > COMMENT_MAX) e.ans_comment = { k: "e_fb_comment", n: COMMENT_MAX };
    else if (comment) body.comment = comment;
    return [body, e];
  }
  async function sendFeedback(ev) {
    ev.preventDefault();
    if (sending) return;
    const [body, e] = collectFeedback();
    setFbErrors(e, Object.keys(e).length ? { k: "fix" } : null);
    if (Object.keys(e).length) return focusFirstError();
    sending = true;
    renderSendButton();
    try {
      data = await api("/complaints/" + encodeURIComponent(ref.id) + "/feedback", body, tokenHeader());
      setFbErrors({}, null);
      $("ans").reset();
      renderStars();
      problem = null;
      render();
      showNotice("fb_thanks", true);
    } catch (err) {
      await feedbackFailed(err);
    } finally {
      sending = false;
      renderSendButton();
    }
  }
  async function feedbackFailed(err) {
    const code = err.error && err.error.code;
    if (err.status === 409 && (code === "feedback_already_given" || code === "invalid_transition")) {
      // Someone answered from another device, or the agency moved on: show the case as it is now.
      setFbErrors({}, null);
      try { data = await api("/complaints/" + encodeURIComponent(ref.id), null, tokenHeader()); } catch (e) { /* keep the last view */ }
      render();
      showNotice(code === "feedback_already_given" ? "e_fb_already" : "e_fb_state", false);
      return;
    }
    if (err.status === 404) { problem = "not_found"; data = null; render(); return; }
    const e = {};
    const ids = { accepted: "ans_accepted", stars: "ans_stars", comment: "ans_comment" };
    for (const [path, f] of Object.entries((err.error && err.error.fields) || {})) {
      const id = ids[path];
      if (id) e[id] = { m: (f && f.message) || err.error.message || code };
    }
    const head = err.net ? { k: "e_network" } : err.status >= 500 ? { k: "e_server" } : err.status === 429 ? { k: "e_busy" }
      : Object.keys(e).length ? { k: "fix" } : { k: "e_fb_failed", m: (err.error && err.error.message) || String(err.status) };
    setFbErrors(e, head);
    $("ans_msg").focus();
  }
  // What became of the answer just sent: thanks, or why the case now looks different from the form.
  let notice = null;
  function showNotice(key, ok) {
    notice = { key, ok };
    renderNotice();
    $("notice").focus();
  }
  function renderNotice() {
    const n = $("notice");
    n.textContent = notice ? t(notice.key) : "";
    n.className = notice ? (notice.ok ? "okmsg" : "note") : "";
  }
  function setFbErrors(e, head) { fbErrs = e; fbHead = head; renderFbErrors(); }
  function renderFbErrors() {
    for (const id of FB_FIELDS) Q.fieldErr(id, say(fbErrs[id]));
    const box = $("ans_msg");
    box.textContent = "";
    if (fbHead) box.append(el("p", "strong", say(fbHead)));
  }
  function focusFirstError() {
    const first = FB_FIELDS.find((id) => fbErrs[id]);
    const target = first === "ans_accepted" ? $("ans_yes") : first === "ans_stars" ? $("star1") : $(first);
    (target || $("ans_msg")).focus();
  }
  function renderSendButton() {
    $("ans_send").disabled = sending;
    $("ans_send").textContent = t(sending ? "sending" : "fb_send");
  }
  function renderStars() {
    const n = Number($("ans").elements.stars.value) || 0;
    for (let i = 1; i <= 5; i++) {
      // A filled or hollow star, not colour alone, shows the rating.
      const input = $("star" + i);
      input.parentNode.classList.toggle("on", i <= n);
      input.nextElementSibling.textContent = i <= n ? "★" : "☆";
      document.querySelector('[data-star="' + i + '"]').textContent = t("fb_star", i);
    }
    $("ans_stars_now").textContent = n ? t("fb_rating", n) : "";
  }

  // ---- the view ----
  function render() {
    const box = $("msg");
    box.textContent = "";
    if (problem) {
      box.append(el("p", "strong", t(problem)));
      if (problem !== "not_found") {
        const b = box.appendChild(el("button", "btn small", t("retry")));
        b.type = "button";
        b.onclick = load;
      }
    }
    for (const id of ["res", "biz", "ans", "outcome", "hist"]) $(id).hidden = !data;
    if (!data) return;
    const d = data, set = (id, v) => { $(id).textContent = v || ""; $(id).parentNode.hidden = !v; };
    $("r_status").textContent = nm(d.status_label) || d.status;
    const flags = $("r_flags");
    flags.textContent = "";
    for (const [flag, key] of Object.entries(FLAGS)) if (d.flags && d.flags[flag]) flags.append(el("li", null, t(key)));
    $("r_kind").textContent = d.kind === "appeal" ? t("kind_appeal") : d.kind === "signal" ? t("kind_signal") : "";
    set("r_agency", d.agency && nm(d.agency.name));
    // Other bodies the complaint plainly concerns too: they see it and are notified, the agency above decides.
    set("r_also", (d.secondary_agencies || []).map((a) => nm(a.name)).join(", "));
    const o = d.outlet, place = $("r_place");
    place.textContent = "";
    (o ? [o.name, o.address, o.business_name, o.display_code] : [d.business && d.business.name])
      .filter(Boolean).forEach((line, i) => place.append(el("span", i ? null : "strong", line)));
    place.parentNode.hidden = !place.firstChild;
    set("r_cat", d.category && nm(d.category.name));
    set("r_id", d.id);
    set("r_created", Q.date(d.created_at));
    due("r_due_business", d.business_due_at, d.flags && d.flags.business_overdue);
    due("r_due_agency", d.agency_due_at, d.flags && d.flags.agency_overdue);
    renderBusiness(d);
    renderOutcome(d);
    renderTimeline(d);
  }
  function due(id, iso, overdue) {
    const dd = $(id);
    dd.textContent = iso ? Q.date(iso, true) : "";
    if (iso && overdue) dd.append(" ", el("span", "late", t("overdue")));
    dd.parentNode.hidden = !iso;
  }
  function renderBusiness(d) {
    const r = d.business_response, f = d.feedback;
    $("biz").hidden = !r;
    $("ans").hidden = !d.can_give_feedback;
    if (!r) return;
    $("b_offer").textContent = OFFERS[r.offer] ? t(OFFERS[r.offer]) : r.offer || "";
    $("b_offer").parentNode.hidden = !r.offer;
    $("b_at").textContent = Q.date(r.at);
    $("b_at").parentNode.hidden = !r.at;
    $("b_msg").textContent = r.message || "";
    $("ans_given").hidden = !f;
    if (!f) return;
    $("g_answer").textContent = t(f.accepted ? "fb_accepted" : "fb_rejected");
    $("g_stars_v").textContent = "★".repeat(f.stars) + "☆".repeat(5 - f.stars);
    $("g_stars_t").textContent = t("fb_rating", f.stars);
    $("g_comment").textContent = f.comment || "";
    $("g_comment").hidden = !f.comment;
  }
  function renderOutcome(d) {
    const r = d.result, x = d.rejection;
    $("outcome").hidden = !(r || x);
    if (!(r || x)) return;
    $("o_h").textContent = t(r ? "result_h" : "rejection_h");
    $("o_decision").textContent = r ? (DECISIONS[r.decision] ? t(DECISIONS[r.decision]) : r.decision || "") : t("reason") + ":";
    $("o_text").textContent = (r ? r.result : x.reason) || "";
    $("o_at").textContent = t("decided") + ": " + Q.date((r || x).at);
  }
  function renderTimeline(d) {
    const ol = $("r_timeline");
    ol.textContent = "";
    const steps = (d.timeline || []).slice().sort((a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0));
    for (const s of steps) {
      const li = ol.appendChild(el("li"));
      const time = li.appendChild(el("time", null, Q.date(s.at)));
      time.dateTime = s.at || "";
      li.append(el("span", "strong", nm(s.label) || s.type));
      if (s.agency) li.append(el("span", "hint", nm(s.agency.name)));
    }
    $("hist").hidden = !steps.length;
  }

  $("paste").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const r = parse($("link").value);
    Q.fieldErr("link", r ? "" : t("e_link"));
    if (!r) return $("link").focus();
    location.hash = "id=" + encodeURIComponent(r.id) + "&token=" + encodeURIComponent(r.token);
  });
  $("link").addEventListener("input", () => Q.fieldErr("link", ""));
  $("ans").addEventListener("submit", sendFeedback);
  for (const r of $("ans").elements.stars) r.addEventListener("change", () => { renderStars(); Q.fieldErr("ans_stars", ""); delete fbErrs.ans_stars; });
  for (const r of $("ans").elements.accepted) r.addEventListener("change", () => { Q.fieldErr("ans_accepted", ""); delete fbErrs.ans_accepted; });
  addEventListener("hashchange", () => { notice = null; renderNotice(); load(); });
  Q.onLang(() => {
    render();
    renderFbErrors();
    renderSendButton();
    renderStars();
    renderNotice();
    if ($("link-e").textContent) Q.fieldErr("link", t("e_link"));
  });
  renderStars();
  load();
})();
