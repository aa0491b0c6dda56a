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
