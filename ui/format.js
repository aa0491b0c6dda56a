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

// Times inside a stored sentence ("locked until 2026-12-02T15:04:05Z") are written in UTC,
// so that the audit trail and its export mean one thing everywhere; on screen they read in
// the clerk's own time zone like every other time.
const UTC_STAMP = /\b(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z\b/g;

export function localTimes(text) {
  if (typeof text !== "string") return text;
  return text.replace(UTC_STAMP, (stamp, y, mo, d, h, mi, s) => {
    const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
    // Date.UTC rolls "month 13" over into the next year; only a real time is rewritten.
    const real = !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) + "Z" === stamp;
    return real ? dateTime(ms) : stamp;
  });
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

// A delivery failure's class (as the app records it) in a few words; the admin hint that
// comes with it says what to do.
const FAILURE_CLASS_WORDS = {
  network: "Server not reached",
  tls: "Secure connection failed",
  authentication: "Sign-in refused",
  tenant_smtp_auth_disabled: "SMTP sign-in turned off (Microsoft 365)",
  basic_auth_removed: "Password sign-in removed (Microsoft 365)",
  transient: "Server busy, try later",
  permanent: "Message refused",
  timeout: "No answer in time",
  configuration: "Account set-up incomplete",
};

export function failureClassWords(name) {
  if (!name) return "Failed";
  return FAILURE_CLASS_WORDS[name] ?? name.replaceAll("_", " ");
}

function unitFormat(unit, fractionDigits = 0, unitDisplay = "long") {
  return new Intl.NumberFormat(undefined, {
    style: "unit",
    unit,
    unitDisplay,
    maximumFractionDigits: fractionDigits,
  });
}

// "1 minute", "15 minutes", "1 hour": a span of time the rules speak of, in words.
export function spokenDuration(seconds) {
  if (seconds >= 3600 && seconds % 3600 === 0) return unitFormat("hour").format(seconds / 3600);
  if (seconds >= 60 && seconds % 60 === 0) return unitFormat("minute").format(seconds / 60);
  return unitFormat("second").format(seconds);
}

// "45.1 kB", "1.4 MB": how big a file is.
export function fileSize(bytes) {
  const units = [["gigabyte", 1e9], ["megabyte", 1e6], ["kilobyte", 1e3]];
  for (const [unit, size] of units) {
    if (bytes >= size) return unitFormat(unit, 1, "short").format(bytes / size);
  }
  return unitFormat("byte", 0, "short").format(bytes);
}

// The app's messages start in lower case so they can follow a "because"; shown on their own
// they start with a capital.
export function sentence(text) {
  const s = String(text ?? "");
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

// "12 ms", "1.4 s", "2 min 5 s": how long a step of a test took.
export function duration(ms) {
  const value = Math.max(0, Number(ms) || 0);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
