// The hub's service worker (served as /sw.js by frontend/pwa.py, which precedes this file with the
// app shell's list and loads Workbox, idb and the outbox). What it does:
//   - precaches the app shell (styles, scripts, icons) with Workbox, by content revision;
//   - keeps the signed-in pages an officer needs offline (operation overview, results list with
//     the nil return, post form, rooms, outbox), network first, the last copy seen without network;
//   - sends the outbox on Background Sync, with the same rules as the pages (outbox-store.js);
//   - a clicked alert notification brings the operation's window to the front, or opens its room.
"use strict";
const { precacheAndRoute, cleanupOutdatedCaches } = workbox.precaching;
const { registerRoute, setCatchHandler } = workbox.routing;
const { NetworkFirst, StaleWhileRevalidate } = workbox.strategies;
const { ExpirationPlugin } = workbox.expiration;

const PAGES_CACHE = "cencomm-hub-pages"; // outbox.js deletes it on sign-out
const SYNC_TAG = "cencomm-hub-outbox";

workbox.core.setCacheNameDetails({ prefix: "cencomm-hub" });
self.skipWaiting();
workbox.core.clientsClaim();
precacheAndRoute(self.HUB_PRECACHE);
cleanupOutdatedCaches();

// The pages kept for offline use. Not kept: a result's own page (it shows sealed fields), the
// board, reports, tokens, sign-in pages, the admin and the API.
const KEPT_PAGES = [
  /^\/$/,
  /^\/outbox\/$/,
  /^\/operations\/[^/]+\/$/,
  /^\/operations\/[^/]+\/results\/$/,
  /^\/operations\/[^/]+\/results\/new\/$/,
  /^\/operations\/[^/]+\/rooms\/(\d+\/)?$/,
];
const kept = (url) => url.origin === self.location.origin && !url.search && KEPT_PAGES.some((p) => p.test(url.pathname));

// Only a page itself: not the sign-in page a lapsed session was redirected to.
const onlyThePage = {
  cacheWillUpdate: async ({ response }) => (response && response.status === 200 && !response.redirected ? response : null),
};
// Django's pages vary by language and cookie; this cache is one signed-in officer's, emptied at
// sign-out, so the last copy is the one to show.
const matchOptions = { ignoreVary: true };
const pages = new NetworkFirst({
  cacheName: PAGES_CACHE,
  networkTimeoutSeconds: 5,
  matchOptions,
  plugins: [onlyThePage, new ExpirationPlugin({ maxEntries: 40, maxAgeSeconds: 14 * 24 * 3600 })],
});
registerRoute(({ request, url }) => request.mode === "navigate" && kept(url), pages);

// Other static files (charts library, the board's script): from the cache, refreshed behind.
registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith("/static/"),
  new StaleWhileRevalidate({ cacheName: "cencomm-hub-static", plugins: [new ExpirationPlugin({ maxEntries: 60 })] }),
);

// A page never seen, with no network: the outbox page if it was kept (it says what waits).
setCatchHandler(async ({ request }) => {
  if (request.mode !== "navigate") return Response.error();
  const cache = await caches.open(PAGES_CACHE);
  return (await cache.match("/outbox/", matchOptions)) || Response.error();
});

// A page asks to keep the pages it will need offline, before the officer opens them.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep-pages" || !Array.isArray(data.urls)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(PAGES_CACHE);
    for (const path of data.urls.slice(0, 10)) {
      const url = new URL(path, self.location.origin);
      if (!kept(url) || (await cache.match(url.href, matchOptions))) continue;
      try {
        const response = await fetch(url.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!(await onlyThePage.cacheWillUpdate({ response }))) continue;
        // Read whole before it is stored: a put that streams from the network and is cut off
        // (the network lost mid-page) would store nothing, after it looked stored.
        const { status, statusText, headers } = response;
        await cache.put(url.href, new Response(await response.blob(), { status, statusText, headers }));
      } catch (e) { /* offline: kept when next seen */ }
    }
  })());
});

// Background Sync: the browser wakes the worker when the network is back, pages open or not.
self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(HubOutbox.flush().then((outcome) => {
    if (outcome.problem && outcome.problem.code !== "signin") throw new Error("outbox: try again later");
  }));
});

// A system notification of a warning or an alert (alerts.js shows it, with the page of its room in
// `data.url`), clicked: it closes, and the hub's window of that operation comes to the front (every
// page of the operation shows the alert's banner, to acknowledge there), else the page of
// the alert's room opens.
self.addEventListener("notificationclick", (event) => event.waitUntil(notificationClicked(event.notification)));

async function notificationClicked(notification) {
  notification.close();
  const url = notificationTarget(notification.data);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = hubWindowFor(windows, url);
  if (open) return open.focus();
  return self.clients.openWindow(url.href);
}

// The page a notification leads to: its own, on this hub only (else the home page).
function notificationTarget(data) {
  let url;
  try { url = new URL((data && data.url) || "/", self.location.origin); } catch (e) { url = null; }
  return url && url.origin === self.location.origin ? url : new URL("/", self.location.origin);
}

// An open window showing that page, else one showing any page of the same operation.
function hubWindowFor(windows, url) {
  const path = (w) => new URL(w.url).pathname;
  const operation = url.pathname.match(/^\/operations\/[^/]+\//);
  return windows.find((w) => path(w) === url.pathname)
    || (operation && windows.find((w) => path(w).startsWith(operation[0])))
    || null;
}
