/* What the app keeps on this phone, and what follows a send. Loaded by the form only after a send (or when
   complaints kept offline are waiting), and by "my complaints".
   - "qalqan.mine": the complaints sent from this device: id, tracking token and link, outlet, agency, kind, when.
     Only here, in this browser: the server keeps no list of a device's complaints.
   - "qalqan.queue": complaints written without a connection, each with the Idempotency-Key chosen when it was
     first sent, so however often it is retried (this tab, another tab, after a reload) the server makes one
     complaint of it. A Web Lock lets one tab at a time send; each sends the queue's current state, re-read. */
(() => {
  "use strict";
  const { $, t, el } = Q, nm = Q.name, MINE = "qalqan.mine", QUEUE = "qalqan.queue", RETRY_MS = 30000;
  const subs = [];
  let shown = null, copied = false, retry = null, flushing = null;

  const read = (k) => { try { return JSON.parse(localStorage.getItem(k)) || []; } catch (e) { return []; } };
  // Throws when the browser refuses to store (private mode, full): the caller then says so instead of pretending.
  function write(k, list) {
    if (list.length) localStorage.setItem(k, JSON.stringify(list)); else localStorage.removeItem(k);
  }
  function changed() {
    render();
    subs.forEach((f) => f());
  }

  function remember(r, place, at) {
    const entry = { id: r.id, token: r.tracking_token, url: Q.trackUrl(r), agency: r.agency ? r.agency.name : null,
      kind: r.kind || null, place: place || {}, at: at || new Date().toISOString() };
    try { write(MINE, [entry, ...read(MINE).filter((m) => m.id !== r.id)]); } catch (e) { /* shown, not kept */ }
  }

  // A complaint that could not go out: kept with its key, and sent when the connection comes back.
  function keep(body, key, place) {
    try { write(QUEUE, [...read(QUEUE).filter((i) => i.key !== key), { key, body, place, at: new Date().toISOString(), state: "waiting" }]); }
    catch (e) { return false; }
    show({ key });
    flush();
    return true;
  }

  function flush() {
    if (flushing) return flushing;
    const run = async () => {
      for (;;) {
        const item = read(QUEUE).find((i) => i.state === "waiting");
        if (!item) return;
        let r;
        try {
          r = await Q.api("/complaints", item.body, { "Idempotency-Key": item.key });
        } catch (e) {
          // No answer, a fault, a throttle or a concurrent write: it may have landed; the same key tries again.
          if (e.net || e.status >= 500 || e.status === 429 || (e.error && e.error.code === "concurrent_update")) {
            clearTimeout(retry);
            retry = setTimeout(flush, RETRY_MS);
            return;
          }
          // A definite refusal (the outlet code was wrong, say): nothing was created; the consumer decides.
          update(item.key, { state: "refused", err: (e.error && e.error.message) || String(e.status) });
          continue;
        }
        try { write(QUEUE, read(QUEUE).filter((i) => i.key !== item.key)); } catch (e) { /* cannot happen: removing */ }
        remember(r, item.place, item.at);
        if (shown && shown.key === item.key) { shown = { r }; render(); $("done_h").focus(); }
        changed();
      }
    };
    flushing = (navigator.locks ? navigator.locks.request("qalqan.queue", run) : run())
      .catch(() => {}).finally(() => { flushing = null; });
    return flushing;
  }
  function update(key, fields) {
    try { write(QUEUE, read(QUEUE).map((i) => (i.key === key ? { ...i, ...fields } : i))); } catch (e) { /* kept as it was */ }
    changed();
  }

  // ---- the form's result panel: a sent complaint, or one kept for later ----
  function show(s) {
    shown = s;
    copied = false;
    $("f").hidden = true;
    document.querySelector(".lead").hidden = true;
    $("done").hidden = false;
    render();
    $("done_h").focus();
  }
  function done(r, place) {
    remember(r, place);
    show({ r });
    subs.forEach((f) => f());
  }
  const link = (cls, text, href) => Object.assign(el("a", cls, text), { href });
  function render() {
    const box = $("done");
    if (!box || !shown) return;
    box.textContent = "";
    const h = box.appendChild(el("h2", null, t(shown.r ? "done_h" : "queued_h")));
    Object.assign(h, { id: "done_h", tabIndex: -1 });
    const again = link("btn", t("again"), location.pathname + location.search);
    again.id = "again";
    if (!shown.r) {
      const item = read(QUEUE).find((i) => i.key === shown.key);
      const refused = item && item.state === "refused";
      box.append(el("p", refused ? "alert" : "badge", refused ? t("st_refused") + " " + item.err : t("st_waiting")));
      box.lastChild.id = "done_state";
      box.append(el("p", "note", t("queued_note")), el("p", "row"));
      box.lastChild.append(link("btn", t("to_mine"), "mine.html"), again);
      return;
    }
    const r = shown.r, url = Q.trackUrl(r), dl = box.appendChild(el("dl", "kv"));
    for (const [k, id, cls, v] of [["agency", "done_agency", "strong", nm(r.agency && r.agency.name)], ["cid", "done_id", "mono", r.id]]) {
      const row = dl.appendChild(el("div"));
      row.append(el("dt", null, t(k)), el("dd", cls, v));
      row.lastChild.id = id;
    }
    const kind = box.appendChild(el("p", "hint", r.kind === "appeal" ? t("kind_appeal") : r.kind === "signal" ? t("kind_signal") : ""));
    kind.id = "done_kind";
    box.append(link("btn primary wide", t("done_link"), url), el("p", "note", t("done_save")));
    box.lastChild.previousSibling.id = "done_link";
    const row = box.appendChild(el("p", "row")), copy = row.appendChild(el("button", "btn", t("copy")));
    Object.assign(copy, { type: "button", id: "copy", hidden: !(navigator.clipboard && window.isSecureContext) });
    copy.onclick = () => navigator.clipboard.writeText(new URL(url, location.href).href)
      .then(() => { copied = true; $("copied").textContent = t("copied"); }, () => {});
    row.append(again, link("btn", t("to_mine"), "mine.html"));
    const note = box.appendChild(el("p", "hint", copied ? t("copied") : ""));
    note.id = "copied";
    note.setAttribute("aria-live", "polite");
  }

  Q.app = {
    mine: () => read(MINE),
    queue: () => read(QUEUE),
    forget(id) { try { write(MINE, read(MINE).filter((m) => m.id !== id)); } catch (e) { /* nothing removed */ } changed(); },
    mark(id, fields) { try { write(MINE, read(MINE).map((m) => (m.id === id ? { ...m, ...fields } : m))); } catch (e) { /* unchanged */ } changed(); },
    drop(key) { try { write(QUEUE, read(QUEUE).filter((i) => i.key !== key)); } catch (e) { /* nothing removed */ } changed(); },
    keep, done, flush,
    onChange: (f) => subs.push(f),
  };
  Q.onLang(render);
  addEventListener("online", flush);
  addEventListener("visibilitychange", () => document.visibilityState === "visible" && flush());
  // Another tab sent, kept or removed one: show the same.
  addEventListener("storage", (e) => (e.key === MINE || e.key === QUEUE) && changed());
  flush();
})();
