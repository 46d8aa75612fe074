/* The service worker of the consumer app. It makes the pages open without a connection, so a complaint can be
   written offline (app.js keeps it and sends it when the connection is back), and it shows the status-change
   notifications (Web Push) and opens the complaint from them.
   Pages and their files: network first (a deployment is seen at once), the stored copy only when the network
   fails. The catalogue (categories, regions) likewise, so the offline form still has its lists. Nothing else is
   stored: a tracking answer carries a person's case and is fetched with a token, so it is never kept here. */
"use strict";
const CACHE = "qalqan-app-1";
// What the offline form and "my complaints" need; the other pages are stored once visited.
const SHELL = ["./", "index.html", "app.css", "config.js", "i18n.js", "common.js", "form.js", "app-i18n.js",
  "app.js", "mine.html", "mine-i18n.js", "mine.js", "manifest.webmanifest", "icons/icon-192.png"];
const STATIC = /(\/|\.(html|js|css|webmanifest|png))$/;
const CONSOLES = /\/(agency|business|console)[^/]*$/; // staff pages: always live, never kept on a phone
const WORDS = { kk: "{id} шағымының мәртебесі өзгерді", ru: "Статус жалобы {id} изменился",
  en: "The status of complaint {id} has changed" };

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function stored(req, key) {
  return fetch(req).then((r) => {
    // Only a plain answer: not an error, a redirect (the /q/ resolver's) or an opaque cross-origin reply.
    if (r.ok && !r.redirected && (r.type === "basic" || r.type === "cors")) {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(key, copy));
    }
    return r;
  }, () => caches.match(key, { ignoreSearch: true }).then((r) => r || Promise.reject(new TypeError("offline"))));
}

self.addEventListener("fetch", (e) => {
  const req = e.request, url = new URL(req.url);
  if (req.method !== "GET") return;
  const own = url.origin === location.origin;
  if (own && (req.mode === "navigate" || STATIC.test(url.pathname)) && !CONSOLES.test(url.pathname)
      && !/^\/(q|_local)\//.test(url.pathname)) {
    // index.html?o=CODE and index.html are one page: stored without the query.
    return e.respondWith(stored(req, url.origin + url.pathname));
  }
  if (/\/catalog$/.test(url.pathname) && !url.search) e.respondWith(stored(req, url.href));
});

self.addEventListener("push", (e) => {
  let d = {};
  try { d = e.data ? e.data.json() : {}; } catch (x) { /* not JSON: a bare notice */ }
  // The server words the title and text in the device's language; the fallback names only the complaint.
  const id = String(d.complaint_id || ""), lang = WORDS[d.lang] ? d.lang : "ru", path = d.path || "mine.html";
  const str = (v, dflt) => (typeof v === "string" && v ? v.slice(0, 300) : dflt);
  e.waitUntil(Promise.all([
    self.registration.showNotification(str(d.title, "Qalqan"), { body: str(d.body, WORDS[lang].replace("{id}", id)),
      lang, tag: str(d.tag, "complaint-" + id), icon: "icons/icon-192.png", data: { path } }),
    // An open "my complaints" list fetches the new status at once.
    self.clients.matchAll({ type: "window" }).then((list) => list.forEach((c) => c.postMessage({ status: id }))),
  ]));
});

self.addEventListener("notificationclick", (e) => {
  e.notification.close();
  let u = new URL((e.notification.data && e.notification.data.path) || "mine.html", self.registration.scope);
  if (u.origin !== location.origin) u = new URL("mine.html", self.registration.scope); // only our own pages
  e.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
    const open = list.find((c) => c.url === u.href && "focus" in c);
    return open ? open.focus() : self.clients.openWindow(u.href);
  }));
});
