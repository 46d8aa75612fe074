/* What the outlet and chain pages share: the rating, the shares beside the sector's, error messages.
   Data from the API only ever goes into the page through textContent. */
(() => {
  "use strict";
  const { t, el } = Q;
  const LOCALE = { kk: "kk-KZ", ru: "ru-KZ", en: "en-GB" };
  const pct = (x) => new Intl.NumberFormat(LOCALE[Q.lang], { style: "percent", maximumFractionDigits: 0 }).format(x);
  const num = (x) => new Intl.NumberFormat(LOCALE[Q.lang], { maximumFractionDigits: 1 }).format(x);

  // A share as a meter and words; withheld (too few complaints to say) and "no complaints yet" say so.
  function share(cell, s) {
    cell.textContent = "";
    if (!s || s.share == null) {
      cell.append(el("span", "hint", s && s.count ? t("pub_withheld") : "—"));
      return;
    }
    const m = el("meter");
    m.min = 0; m.max = 1; m.value = s.share;
    m.setAttribute("aria-hidden", "true");
    cell.append(m, " ", el("span", "strong", pct(s.share)), " ", el("span", "hint", t("pub_share_of", s.count)));
  }

  // The rating block: the score out of 5 with the count behind it, or why it is not shown.
  function rating(box, r) {
    box.textContent = "";
    if (r.published) {
      const score = num(r.score);
      box.append(el("p", "badge", t("pub_of_five", score)));
    } else {
      box.append(el("p", "strong", t("pub_not_published")));
      if (r.reason_text) box.append(el("p", "hint", Q.name(r.reason_text)));
    }
    box.append(el("p", "hint", t("pub_based", r.count)));
  }

  // One table: the outlet's or seller's shares (answered in time, settled), and the sector's beside them.
  function record(table, mine, sector, label) {
    table.textContent = "";
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    head.append(el("td"), Object.assign(el("th", null, label), { scope: "col" }));
    if (sector) head.append(Object.assign(el("th", null, t("pub_sector_avg") + (sector.sector ? ": " + Q.name(sector.sector.name) : "")), { scope: "col" }));
    const body = table.appendChild(el("tbody"));
    for (const [label, key] of [[t("pub_answered"), "answered_in_time"], [t("pub_settled"), "settled"]]) {
      const row = body.appendChild(el("tr"));
      row.append(Object.assign(el("th", null, label), { scope: "row" }));
      share(row.appendChild(el("td")), mine[key]);
      if (sector) share(row.appendChild(el("td")), sector[key]);
    }
    const total = body.appendChild(el("tr"));
    total.append(Object.assign(el("th", null, t("pub_complaints")), { scope: "row" }), el("td", null, String(mine.complaints)));
    if (sector) total.append(el("td", null, String(sector.complaints)));
  }

  // The words for a failed load: `missing` is the page's own "no such outlet/seller".
  function problem(e, missing) {
    if (e.net) return t("e_network");
    if (e.status === 404 || e.status === 400) return missing;
    if (e.status === 429) return t("e_busy");
    return t("e_server");
  }

  window.P = { share, rating, record, problem, pct, num };
})();
