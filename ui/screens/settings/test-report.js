// The report of a test mail or test SMS as its dialog shows it: every step that ran, with
// its result and how long it took, and for the step that failed the sentence that says what
// to fix. Server replies are untrusted text and reach the page through textContent only.

import { duration, element } from "../../format.js";

const STEP_WORDS = {
  account: "Account",
  render: "Message",
  connect: "Connect to the server",
  tls: "Secure connection (TLS)",
  authenticate: "Sign in to the server",
  send: "Hand the message over",
  deliver: "Deliver",
  number: "Phone number",
  request: "Request to Twilio",
  status: "Delivery status",
};

export function stepName(step) {
  return STEP_WORDS[step] ?? step;
}

// Fills `list` with the steps of `outcome` (what mail_test and sms_test answer) and `hint`
// with what to do about a failure; answers the sentence for the dialog's status line.
export function showReport(doc, list, hint, outcome) {
  const items = outcome.steps.map((s) => {
    const item = element(doc, "li", "test-step");
    item.dataset.step = s.step;
    item.dataset.ok = String(s.ok);
    const head = element(doc, "span", "step-head");
    head.append(
      element(doc, "span", "step-name", stepName(s.step)),
      badge(doc, s.ok),
      element(doc, "span", "step-time", duration(s.duration_ms)),
    );
    item.append(head);
    // A failed step's detail is what the server (or the number check) said; the sentence
    // about what to fix is the hint below the list.
    if (s.detail && s.detail !== "ok") item.append(element(doc, "p", "step-detail", s.detail));
    return item;
  });
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
  const failed = outcome.steps.find((s) => !s.ok);
  if (outcome.ok) {
    hint.hidden = true;
    hint.textContent = "";
    return "Every step passed.";
  }
  hint.textContent = outcome.hint ?? "";
  hint.hidden = !outcome.hint;
  return failed ? `Failed at “${stepName(failed.step)}”.` : "The test failed.";
}

function badge(doc, ok) {
  const b = element(doc, "span", "badge", ok ? "ok" : "failed");
  b.dataset.tone = ok ? "ok" : "bad";
  return b;
}

export function clearReport(list, hint) {
  list.replaceChildren();
  list.hidden = true;
  hint.textContent = "";
  hint.hidden = true;
}
