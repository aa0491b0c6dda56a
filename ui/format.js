// How times, counts and durations read on every screen: in the clerk's own language and
// time zone, from the millisecond timestamps the app answers with.

export function plural(count, one, many) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateAndTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

export function clockTime(ms) {
  return timeOfDay.format(new Date(ms));
}

export function dateTime(ms) {
  return dateAndTime.format(new Date(ms));
}

// "4:05" for a countdown; never negative.
export function minutesSeconds(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

// Anything a record brings in (names, accounts, server replies) is untrusted text, so it
// only ever reaches the page through textContent.
export function element(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// "12 ms", "1.4 s", "2 min 5 s": how long a step of a test took.
export function duration(ms) {
  const value = Math.max(0, Number(ms) || 0);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
