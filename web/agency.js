/* The agency console: the queue of the key's agency (and regions), and what an agent does with a case —
   take it into review, decide it, close it without consideration, or pass it to another agency.
   Which of these is offered comes from the server (`actions`), so the page never offers a move the state
   machine would refuse. */
(() => {
  "use strict";
  const { $, t } = Q, nm = Q.name;
  const PANELS = { take: "take_f", resolve: "resolve_d", reroute: "reroute_d", reject: "reject_d" };
  const statusPath = (id) => ctx.path(id, "/status");

  function actions(d, c) {
    const can = Array.isArray(d.actions) ? d.actions : [];
    for (const [a, id] of Object.entries(PANELS)) $(id).hidden = !can.includes(a);
    $("no_actions").hidden = can.some((a) => a in PANELS);
    fillAgencies(d, c);
  }

  // Every other agency, by name in the reader's language; the case's own agency is not a target.
  function fillAgencies(d, c) {
    const sel = $("agency_id"), v = sel.value, coll = new Intl.Collator(Q.lang);
    const list = (c.catalog ? c.catalog.agencies : []).filter((a) => !d.agency || a.id !== d.agency.id)
      .map((a) => [a.id, nm(a.name)]).sort((a, b) => coll.compare(a[1], b[1]));
    sel.textContent = "";
    sel.add(new Option(t("choose_agency"), ""));
    for (const [id, name] of list) sel.add(new Option(name, id));
    sel.value = list.some((x) => x[0] === v) ? v : "";
  }

  const ctx = Console.start({
    role: "agency",
    path: "/agency/complaints",
    filters: ["status", "region"],
    dues: ["business_due_at", "agency_due_at"],
    forms: ["take_f", "resolve_f", "reroute_f", "reject_f"],
    actions,
  });

  $("take_f").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = ctx.detail;
    const r = await ctx.send($("take"), statusPath(d.id), { status: "in_review" }, {});
    if (r) ctx.done(r, "taken_ok");
  });

  $("resolve_f").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = ctx.detail;
    const decision = ctx.choose("decision", "decision", "e_decision"), result = ctx.need("result", 5000);
    if (!decision) return $("dec_violation_confirmed").focus();
    if (result == null) return $("result").focus();
    const r = await ctx.send($("resolve"), statusPath(d.id), { status: "resolved", decision, result },
      { decision: "decision", result: "result" });
    if (r) ctx.done(r, "resolved_ok");
  });

  $("reject_f").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = ctx.detail, reason = ctx.need("reject_reason", 2000);
    if (reason == null) return $("reject_reason").focus();
    const r = await ctx.send($("reject"), statusPath(d.id), { status: "rejected", reason }, { reason: "reject_reason" });
    if (r) ctx.done(r, "rejected_ok");
  });

  $("reroute_f").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = ctx.detail, agency_id = $("agency_id").value;
    ctx.setErr("agency_id", agency_id ? null : { k: ctx.catalog ? "choose_agency" : "e_catalog" });
    const reason = ctx.need("reroute_reason", 2000);
    if (!agency_id) return $("agency_id").focus();
    if (reason == null) return $("reroute_reason").focus();
    const r = await ctx.send($("reroute"), ctx.path(d.id, "/reroute"), { agency_id, reason },
      { agency_id: "agency_id", reason: "reroute_reason" });
    if (!r) return;
    ctx.gone(d.id, { k: "rerouted_ok", n: (r.agency && r.agency.name) || agency_id });
  });
})();
