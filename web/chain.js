/* chain.html?bin=<BIN>: a seller's public record across its outlets, a page of outlets at a time. */
(() => {
  "use strict";
  const { $, t, el, api } = Q;
  const bin = (new URLSearchParams(location.search).get("bin") || "").trim();
  const PAGE = 20;
  let data = null, outlets = [], sectors = {}, cursor = null, failure = null;

  function outletItem(entry) {
    const o = entry.outlet, r = entry.rating, li = el("li"), score = r.published ? P.num(r.score) : "";
    li.dataset.code = o.code;
    li.appendChild(el("h3")).append(Object.assign(el("a", null, o.name), { href: "outlet.html?code=" + encodeURIComponent(o.code) }));
    li.append(el("p", "hint", o.address));
    li.append(el("p", r.published ? "strong" : null, (r.published ? t("pub_of_five", score) : t("pub_not_published"))
      + " · " + t("pub_based", r.count)));
    const answered = entry.record.answered_in_time;
    if (answered.share != null) li.append(el("p", null, t("pub_answered") + ": " + P.pct(answered.share)));
    if (!o.active) li.append(el("p", "hint", t("pub_suspended")));
    return li;
  }

  function sectorTable(table) {
    table.textContent = "";
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    head.append(el("td"));
    for (const label of [t("pub_answered"), t("pub_settled")]) head.append(Object.assign(el("th", null, label), { scope: "col" }));
    const body = table.appendChild(el("tbody"));
    for (const s of Object.values(sectors)) {
      const row = body.appendChild(el("tr"));
      row.append(Object.assign(el("th", null, Q.name(s.sector.name) || s.sector.id), { scope: "row" }));
      P.share(row.appendChild(el("td")), s.answered_in_time);
      P.share(row.appendChild(el("td")), s.settled);
    }
  }

  function render() {
    $("msg").textContent = failure ? failure() : "";
    if (!data) return;
    $("c_name").textContent = data.business.name;
    document.title = data.business.name + " — " + t("title_chain");
    P.rating($("r_box"), data.rating);
    P.record($("r_table"), data.record, null, t("pub_this_seller"));
    const list = $("o_list");
    list.textContent = "";
    for (const entry of outlets) list.append(outletItem(entry));
    $("more").hidden = !cursor;
    sectorTable($("s_table"));
    $("sectors").hidden = !Object.keys(sectors).length;
    for (const id of ["rating", "record", "outlets"]) $(id).hidden = false;
  }

  async function page(after) {
    const query = "?limit=" + PAGE + (after ? "&cursor=" + encodeURIComponent(after) : "");
    const got = await api("/public/businesses/" + encodeURIComponent(bin) + query);
    data = got;
    outlets = outlets.concat(got.outlets);
    for (const s of got.sector_averages) sectors[s.sector.id] = s;
    cursor = got.next_cursor;
  }

  async function load(after) {
    failure = null;
    if (!/^\d{12}$/.test(bin)) {
      failure = () => t("pub_e_bin");
    } else {
      try {
        await page(after);
      } catch (e) {
        failure = () => P.problem(e, t(e.status === 400 ? "pub_e_bin" : "pub_e_chain"));
      }
    }
    render();
    if (failure) $("msg").focus();
  }

  $("more").addEventListener("click", async () => {
    const more = $("more"), before = outlets.length;
    more.disabled = true;
    await load(cursor);
    more.disabled = false;
    // the first new outlet takes the focus, so a keyboard or screen-reader user lands on what was added
    const first = $("o_list").children[before];
    if (first) { first.tabIndex = -1; first.focus(); }
  });
  Q.onLang(render);
  load(null);
})();
