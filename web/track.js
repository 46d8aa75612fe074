/* The tracking page. The id and token come in the URL fragment, so the static host never logs the token. */
(() => {
  "use strict";
  const { $, t, el, api } = Q, nm = Q.name;
  let data = null, problem = null;

  // Accepts a whole tracking link, a bare "id=…&token=…", or the current location.
  function parse(s) {
    for (const part of String(s).trim().split(/[#?]/).reverse()) {
      const p = new URLSearchParams(part);
      if (p.get("id") && p.get("token")) return { id: p.get("id").trim(), token: p.get("token").trim() };
    }
    return null;
  }

  async function load() {
    const ref = parse(location.hash);
    data = null;
    problem = null;
    $("res").hidden = true;
    $("paste").hidden = !!ref;
    render();
    if (!ref) return;
    $("loading").textContent = t("loading");
    try {
      // The token goes in a header, not the query string, so no access log along the way records it.
      data = await api("/complaints/" + encodeURIComponent(ref.id), null, { "X-Tracking-Token": ref.token });
    } catch (e) {
      // A wrong token is reported like a missing complaint, so both read "not found or the link is wrong".
      problem = e.net ? "e_network" : e.status >= 500 ? "e_server" : e.status === 429 ? "e_busy" : "not_found";
      $("paste").hidden = problem !== "not_found";
    }
    $("loading").textContent = "";
    render();
    if (data) $("main").focus();
  }

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
    $("res").hidden = !data;
    if (!data) return;
    const d = data, set = (id, v) => { $(id).textContent = v || ""; $(id).parentNode.hidden = !v; };
    $("r_status").textContent = nm(d.status_label) || d.status;
    $("r_kind").textContent = d.kind === "appeal" ? t("kind_appeal") : d.kind === "signal" ? t("kind_signal") : "";
    set("r_agency", d.agency && nm(d.agency.name));
    const o = d.outlet, place = $("r_place");
    place.textContent = "";
    (o ? [o.name, o.address, o.business_name, o.display_code] : [d.business && d.business.name])
      .filter(Boolean).forEach((line, i) => place.append(el("span", i ? null : "strong", line)));
    place.parentNode.hidden = !place.firstChild;
    set("r_cat", d.category && nm(d.category.name));
    set("r_id", d.id);
    set("r_created", Q.date(d.created_at));
    set("r_due", d.due_at && Q.date(d.due_at, true));
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
  }

  $("paste").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ref = parse($("link").value);
    Q.fieldErr("link", ref ? "" : t("e_link"));
    if (!ref) return $("link").focus();
    location.hash = "id=" + encodeURIComponent(ref.id) + "&token=" + encodeURIComponent(ref.token);
  });
  $("link").addEventListener("input", () => Q.fieldErr("link", ""));
  addEventListener("hashchange", load);
  Q.onLang(() => {
    render();
    if ($("link-e").textContent) Q.fieldErr("link", t("e_link"));
  });
  load();
})();
