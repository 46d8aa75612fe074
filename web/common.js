/* Shared by form.js and track.js: language choice, translation, API calls, field errors.
   Data from the API only ever goes into the page through textContent. */
(() => {
  "use strict";
  const D = window.I18N, LANGS = ["kk", "ru", "en"], STORE = "qalqan.lang", subs = [];
  const LOCALE = { kk: "kk-KZ", ru: "ru-KZ", en: "en-GB" };
  const KK_MONTHS = "қаңтар ақпан наурыз сәуір мамыр маусым шілде тамыз қыркүйек қазан қараша желтоқсан".split(" ");
  let kk;
  const kkData = () => (kk != null ? kk
    : (kk = new Intl.DateTimeFormat("kk", { month: "long", timeZone: "UTC" }).format(Date.UTC(2020, 10, 15)) === "қараша"));
  const base = String(window.QALQAN_API || "").replace(/\/+$/, "");

  // Stored choice, else the first browser language we have; Russian is the widest-understood fallback.
  function initial() {
    try { const s = localStorage.getItem(STORE); if (LANGS.includes(s)) return s; } catch (e) { /* private mode */ }
    for (const l of navigator.languages || [navigator.language || ""]) {
      const p = String(l).toLowerCase().split(/[-_]/)[0];
      if (p === "kk" || p === "kz") return "kk";
      if (p === "ru" || p === "en") return p;
    }
    return "ru";
  }

  const Q = window.Q = {
    lang: initial(),
    $: (id) => document.getElementById(id),
    t(key, n) {
      const s = D[key] ? D[key][Q.lang] : key;
      return n == null ? s : s.replace("{n}", n);
    },
    name: (o) => (o ? o[Q.lang] || o.ru || o.en || o.kk || "" : ""),
    el(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text != null) e.textContent = text;
      return e;
    },
    // Dates are shown in Almaty time. Some browsers claim kk but carry no Kazakh data (they print "2026 M11 28"),
    // so Kazakh is then composed by hand in the standard "2026 ж. 28 қараша" order.
    date(iso, dateOnly) {
      const d = new Date(iso), tz = { timeZone: "Asia/Almaty" };
      if (!iso || isNaN(d)) return iso || "";
      if (Q.lang === "kk" && !kkData()) {
        const p = {};
        for (const x of new Intl.DateTimeFormat("en-GB", { ...tz, year: "numeric", month: "numeric", day: "numeric",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d)) p[x.type] = x.value;
        const s = p.year + " ж. " + +p.day + " " + KK_MONTHS[p.month - 1];
        return dateOnly ? s : s + ", " + p.hour + ":" + p.minute;
      }
      const o = dateOnly ? { dateStyle: "long" } : { dateStyle: "medium", timeStyle: "short" };
      return new Intl.DateTimeFormat(LOCALE[Q.lang], { ...o, ...tz }).format(d);
    },
    // Resolves with the JSON body; rejects with {net: true} or {status, error}.
    async api(path, body, headers, method) {
      // Accept-Language: the server then words its errors in the language the consumer chose.
      const h = { "Accept-Language": Q.lang, ...headers };
      const init = body ? { method: method || "POST", headers: { "Content-Type": "application/json", ...h }, body: JSON.stringify(body) }
        : { method, headers: h };
      let r, j = null;
      try { r = await fetch(base + path, init); } catch (e) { throw { net: true }; }
      try { j = await r.json(); } catch (e) { /* empty or not JSON */ }
      if (!r.ok) throw { status: r.status, error: (j && j.error) || {} };
      return j;
    },
    // Show or clear the message under a field, and keep aria-invalid / aria-describedby in step.
    fieldErr(id, msg) {
      const i = Q.$(id), e = Q.$(id + "-e");
      e.textContent = msg || "";
      const d = (i.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== e.id);
      if (msg) { d.push(e.id); i.setAttribute("aria-invalid", "true"); } else i.removeAttribute("aria-invalid");
      if (d.length) i.setAttribute("aria-describedby", d.join(" ")); else i.removeAttribute("aria-describedby");
    },
    onLang: (f) => subs.push(f),
    // A complaint's own tracking link: the server's when it gives an absolute one, else this site's page.
    trackUrl: (r) => (/^https?:\/\//i.test(r.status_url || "") ? r.status_url
      : "track.html#id=" + encodeURIComponent(r.id) + "&token=" + encodeURIComponent(r.tracking_token)),
    // Are complaints kept offline waiting on this device (app.js sends them)?
    kept() { try { return !!localStorage.getItem("qalqan.queue"); } catch (e) { return false; } },
    // A script the page needs only sometimes (the scanner, what follows a send), loaded once, in order.
    load(src) {
      return loaded[src] || (loaded[src] = new Promise((ok, no) => {
        const s = document.head.appendChild(document.createElement("script"));
        s.onload = ok;
        s.onerror = () => { delete loaded[src]; no({ net: true }); };
        s.src = src;
      }));
    },
  };
  const loaded = {};

  function apply() {
    document.documentElement.lang = Q.lang;
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = Q.t(e.dataset.t);
    for (const e of document.querySelectorAll("[data-ph]")) e.placeholder = Q.t(e.dataset.ph);
    for (const e of document.querySelectorAll("[data-al]")) e.setAttribute("aria-label", Q.t(e.dataset.al));
    for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", b.dataset.lang === Q.lang);
    document.title = Q.t(document.body.dataset.title);
    const desc = document.querySelector('meta[name="description"]');
    if (desc && document.body.dataset.desc) desc.content = Q.t(document.body.dataset.desc);
    subs.forEach((f) => f());
  }

  for (const b of document.querySelectorAll("[data-lang]")) {
    b.addEventListener("click", () => {
      Q.lang = b.dataset.lang;
      try { localStorage.setItem(STORE, Q.lang); } catch (e) { /* not remembered, still switched */ }
      apply();
    });
  }
  apply();
  // The consumer pages (those with a manifest) work as an installed app: the service worker keeps them offline.
  if (document.querySelector("link[rel=manifest]") && "serviceWorker" in navigator) {
    addEventListener("load", () => navigator.serviceWorker.register("sw.js").catch(() => {}));
  }
})();
