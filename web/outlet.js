/* outlet.html?code=<CODE>: an outlet's public record, what a shopper sees after scanning its sticker. */
(() => {
  "use strict";
  const { $, t, api } = Q;
  const code = (new URLSearchParams(location.search).get("code") || "").trim();
  let data = null, failure = null;

  function render() {
    $("msg").textContent = failure ? failure() : ""; // a function, so a language switch re-words it
    if (!data) return;
    const o = data.outlet;
    $("o_name").textContent = o.name;
    document.title = o.name + " — " + t("title_outlet");
    $("o_suspended").hidden = o.active;
    $("o_seller").textContent = o.business.name;
    $("o_sector").textContent = Q.name(o.sector.name) || o.sector.id;
    $("o_region").textContent = Q.name(o.region.name) || o.region.code;
    $("o_address").textContent = o.address;
    $("o_complain").href = "./?o=" + encodeURIComponent(o.code) + "&ch=web";
    $("o_complain").hidden = !o.active;
    // Only a legal entity's BIN is shown and linked: a sole proprietor's number is a person's IIN.
    $("o_chain").hidden = !o.business.bin;
    if (o.business.bin) $("o_chain").href = "chain.html?bin=" + encodeURIComponent(o.business.bin);
    P.rating($("r_box"), data.rating);
    P.record($("r_table"), data.record, data.sector_average, t("pub_this_outlet"));
    for (const id of ["about", "rating", "record"]) $(id).hidden = false;
  }

  async function load() {
    if (!/^[0-9A-Za-z-]{4,32}$/.test(code)) {
      failure = () => t("pub_e_code");
    } else {
      try {
        data = await api("/public/outlets/" + encodeURIComponent(code));
      } catch (e) {
        failure = () => P.problem(e, t(e.status === 400 ? "pub_e_code" : "pub_e_outlet"));
      }
    }
    render();
    if (failure) $("msg").focus();
  }

  Q.onLang(render);
  load();
})();
