/* "My complaints": the complaints this phone sent (app.js keeps them), each with its current status fetched
   with its own tracking token; those kept offline, waiting; and, where the browser has Web Push and the server
   is configured for it, a switch per complaint to be told of a status change. */
(() => {
  "use strict";
  const { $, t, el, api } = Q, nm = Q.name;
  const views = {}; // complaint id -> {d: tracking view} or {k: problem}; fetched once per page view
  let pushKey = null, notice = null, installer = null;
  const token = (m) => ({ "X-Tracking-Token": m.token });
  const placeName = (p) => (p && (p.name || p.code)) || "";

  async function status(m) {
    try {
      views[m.id] = { d: await api("/complaints/" + encodeURIComponent(m.id), null, token(m)) };
    } catch (e) {
      views[m.id] = { k: e.net ? "e_network" : e.status === 429 ? "e_busy" : e.status >= 500 ? "e_server" : "not_found" };
    }
    render();
  }
  function refresh() {
    for (const m of Q.app.mine()) if (!views[m.id] || !views[m.id].d) status(m);
  }

  const button = (label, onclick) => Object.assign(el("button", "btn small", label), { type: "button", onclick });
  function row(dl, label, value, cls) {
    const d = dl.appendChild(el("div"));
    d.append(el("dt", null, label), el("dd", cls, value));
  }
  function render() {
    const list = $("list"), mine = Q.app.mine(), queue = Q.app.queue();
    list.textContent = "";
    $("empty").hidden = mine.length + queue.length > 0;
    $("notice").textContent = notice ? t(notice.k) : "";
    for (const q of queue) {
      const li = list.appendChild(el("li", "panel"));
      li.dataset.key = q.key;
      li.append(el("h2", null, placeName(q.place) || t("to_mine")));
      const refused = q.state === "refused";
      li.append(el("p", refused ? "alert" : null, refused ? t("st_refused") + " " + q.err : ""));
      if (!refused) li.lastChild.append(el("span", "badge", t("st_waiting")));
      li.append(el("p", "hint", [...q.body.text].slice(0, 120).join("") + (q.body.text.length > 120 ? "…" : "")));
      row(li.appendChild(el("dl", "kv")), t("written_at"), Q.date(q.at));
      li.append(el("p", "row"));
      li.lastChild.append(button(t("remove"), () => Q.app.drop(q.key)));
    }
    for (const m of mine) {
      const v = views[m.id] || {}, d = v.d, li = list.appendChild(el("li", "panel"));
      li.dataset.id = m.id;
      li.append(el("h2", null, placeName(d ? { name: d.outlet && d.outlet.name } : null) || placeName(m.place) || m.id));
      const st = li.appendChild(el("p", "st"));
      if (d) st.append(el("span", "badge", nm(d.status_label) || d.status));
      else st.textContent = t(v.k || "loading");
      const dl = li.appendChild(el("dl", "kv"));
      row(dl, t("agency"), nm(d && d.agency ? d.agency.name : m.agency), "strong");
      row(dl, t("cid"), m.id, "mono");
      row(dl, t("created"), Q.date(m.at));
      const actions = li.appendChild(el("p", "row"));
      actions.append(Object.assign(el("a", "btn", t("done_link")), { href: m.url }));
      if (pushKey) actions.append(button(t(m.push ? "push_off" : "push_on"), () => push(m, !m.push)));
      actions.append(button(t("remove"), () => { delete views[m.id]; Q.app.forget(m.id); }));
    }
  }

  // ---- Web Push: one browser subscription, registered with each complaint the consumer asks about ----
  const bytes = (b64) => Uint8Array.from(atob(b64.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  async function pushInit() {
    if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) return;
    try {
      const k = await api("/push/key");
      pushKey = k && typeof k.public_key === "string" && /^[\w-]{80,100}$/.test(k.public_key) ? k.public_key : null;
    } catch (e) {
      pushKey = null; // 404 push_unavailable: this server sends no notifications; offer none
    }
    render();
  }
  async function push(m, on) {
    notice = null;
    try {
      if (on && (await Notification.requestPermission()) !== "granted") return say({ k: "push_denied" });
      const reg = await navigator.serviceWorker.ready;
      let sub = await reg.pushManager.getSubscription();
      if (!sub && !on) return mark(m, false);
      sub = sub || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(pushKey) });
      const s = sub.toJSON(), body = { subscription: { endpoint: s.endpoint, keys: s.keys }, lang: Q.lang };
      await api("/complaints/" + encodeURIComponent(m.id) + "/push-subscriptions", body, token(m), on ? "POST" : "DELETE");
      mark(m, on);
      // The last complaint switched off: the browser's subscription goes too.
      if (!on && !Q.app.mine().some((x) => x.push)) await sub.unsubscribe();
      if (on) say({ k: "push_done" });
    } catch (e) {
      say(e && e.status === 404 ? { k: "not_found" } : { k: "push_failed" });
    }
  }
  function mark(m, on) {
    Q.app.mark(m.id, { push: on });
  }
  function say(m) {
    notice = m;
    render();
    $("notice").focus();
  }

  // ---- install: Chromium offers its own prompt; the button shows only when it is available ----
  addEventListener("beforeinstallprompt", (e) => {
    e.preventDefault();
    installer = e;
    $("install").hidden = false;
  });
  $("install").addEventListener("click", () => {
    if (!installer) return;
    installer.prompt();
    installer = null;
    $("install").hidden = true;
  });
  addEventListener("appinstalled", () => { $("install").hidden = true; });

  // A notification arrived (the service worker says which complaint): its status is fetched anew.
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (e) => {
      const m = Q.app.mine().find((x) => x.id === (e.data && e.data.status));
      if (m) status(m);
    });
  }
  Q.app.onChange(() => { render(); refresh(); });
  Q.onLang(render);
  render();
  refresh();
  pushInit();
})();
