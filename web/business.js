/* The business inbox: complaints about the key's own outlets and BIN/IIN, and one reply with an offer.
   The consumer then accepts or rejects the offer on their tracking page. */
(() => {
  "use strict";
  const { $ } = Q;

  const ctx = Console.start({
    role: "business",
    path: "/business/complaints",
    filters: ["status"],
    dues: ["business_due_at"],
    forms: ["respond_f"],
    actions(d) {
      const can = Array.isArray(d.actions) && d.actions.includes("respond");
      $("respond_f").hidden = !can;
      $("no_actions").hidden = can;
    },
  });

  $("respond_f").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = ctx.detail;
    const message = ctx.need("message", 5000), offer = ctx.choose("offer", "offer", "e_offer");
    if (message == null) return $("message").focus();
    if (!offer) return $("offer_refund").focus();
    const r = await ctx.send($("respond"), ctx.path(d.id, "/response"), { message, offer },
      { message: "message", offer: "offer" });
    if (r) ctx.done(r, "responded_ok");
  });
})();
