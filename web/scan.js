/* The scanner: the camera reads the sticker's QR code and gives the form the outlet code it carries. The browser's
   own BarcodeDetector where it reads QR codes (Android Chrome, Safari 17+ on macOS), else jsQR (vendor/),
   loaded only then. Loaded on the first press of "scan", so the form's first load carries none of it. */
(() => {
  "use strict";
  const { t, el } = Q, LIB = "vendor/jsqr-1.4.0.min.js", EVERY_MS = 150; // ~6 frames a second: enough, spares the battery

  // A sticker's QR holds <resolver>/q/<CODE>; the form's own link (?o=<CODE>) and a bare code are read too.
  function codeOf(text) {
    const s = String(text).trim();
    if (/^[0-9A-Za-z-]{8,12}$/.test(s)) return s;
    let u;
    try { u = new URL(s); } catch (e) { return null; }
    if (!/^https?:$/.test(u.protocol)) return null;
    const m = u.pathname.match(/\/q\/([0-9A-Za-z-]{8,12})\/?$/);
    return m ? m[1] : /^[0-9A-Za-z-]{8,12}$/.test(u.searchParams.get("o") || "") ? u.searchParams.get("o") : null;
  }

  async function reader() {
    if ("BarcodeDetector" in window) {
      try {
        if ((await BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
          const d = new BarcodeDetector({ formats: ["qr_code"] });
          return async (video) => { const r = await d.detect(video); return r.length ? r[0].rawValue : null; };
        }
      } catch (e) { /* not usable here: the library reads instead */ }
    }
    await Q.load(LIB);
    const canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
    return (video) => {
      // At most 640 px on the long side: a sticker filling part of the view is still read, and quickly.
      const k = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight, 1));
      const w = (canvas.width = Math.round(video.videoWidth * k)), h = (canvas.height = Math.round(video.videoHeight * k));
      if (!w || !h) return null;
      ctx.drawImage(video, 0, 0, w, h);
      const r = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
      return r ? r.data : null;
    };
  }

  // Resolves with the code read, or null when the consumer closes the scanner.
  Q.scan = () => new Promise((resolve) => {
    const dlg = document.body.appendChild(el("dialog", "scan")), video = el("video"), msg = el("p", "hint");
    const h = el("p", "strong", t("scan_h")), close = el("button", "btn", t("scan_close"));
    Object.assign(h, { id: "scan_h" });
    Object.assign(msg, { id: "scan_msg" });
    Object.assign(close, { type: "button", id: "scan_close" });
    Object.assign(video, { muted: true, playsInline: true, autoplay: true });
    msg.setAttribute("aria-live", "polite");
    dlg.setAttribute("aria-labelledby", "scan_h");
    dlg.append(h, video, msg, close);
    let stream = null, over = false;
    const finish = (code) => {
      if (over) return;
      over = true;
      if (stream) stream.getTracks().forEach((tr) => tr.stop()); // the camera light goes off at once
      dlg.close();
      dlg.remove();
      resolve(code);
    };
    close.onclick = () => finish(null);
    let shownMsg = null; // {k: key}: a language switch re-words the open scanner too
    const say = (m) => { shownMsg = m; msg.textContent = t(m.k); };
    Q.onLang(() => { if (!over) { h.textContent = t("scan_h"); close.textContent = t("scan_close"); if (shownMsg) say(shownMsg); } });
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); finish(null); });
    dlg.showModal();
    (async () => {
      let read;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
        if (over) return stream.getTracks().forEach((tr) => tr.stop());
        video.srcObject = stream;
        await video.play().catch(() => {});
        read = await reader();
      } catch (e) {
        say({ k: "scan_no_camera" }); // refused, no camera, or the library could not load
        return;
      }
      const tick = async () => {
        if (over) return;
        if (video.readyState >= 2) {
          const text = await Promise.resolve().then(() => read(video)).catch(() => null);
          const code = text && codeOf(text);
          if (code) return finish(code);
          if (text) say({ k: "scan_not_ours" });
        }
        setTimeout(tick, EVERY_MS);
      };
      tick();
    })();
  });
})();
