// The app's clock as the page sees it. Every answer that matters for a countdown carries the
// app's "now"; the page keeps the difference to its own clock, so a countdown ends when the
// app says the code expires, not when the webview's clock happens to think so.

let offsetMs = 0;

export function syncWithApp(appNow) {
  if (typeof appNow === "number" && Number.isFinite(appNow)) {
    offsetMs = appNow - Date.now();
  }
}

export function appNow() {
  return Date.now() + offsetMs;
}
