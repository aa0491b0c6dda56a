// The desk screen: where a clerk finds the customer standing at the counter, sends a code to
// the contact on file and checks the code the customer reads out.
//
// Everything a customer record brings in (name, account, masked contacts) is untrusted text
// from a CSV file or a form, so it only ever reaches the page through textContent.

import { call, channel } from "../ipc.js";
import { appNow, syncWithApp } from "../clock.js";
import { clockTime, element, minutesSeconds, plural } from "../format.js";

// One screen of results; the clerk narrows the search rather than scrolls.
const RESULTS_PER_SEARCH = 20;

const CHANNEL_WORDS = { email: "email", sms: "SMS" };

// A missing contact is said in words, styled apart, so it is never mistaken for a value.
function contact(doc, masked, missing) {
  return masked === null || masked === undefined
    ? element(doc, "span", "missing", missing)
    : element(doc, "span", "contact", masked);
}

function optionFor(doc, customer) {
  const option = element(doc, "li", "result");
  option.id = `customer-${customer.id}`;
  option.setAttribute("role", "option");
  option.setAttribute("aria-selected", "false");
  option.dataset.customerId = String(customer.id);

  const top = element(doc, "span", "result-line");
  top.append(
    element(doc, "span", "result-name", customer.name),
    element(doc, "span", "result-account mono", customer.account_number),
  );
  const contacts = element(doc, "span", "result-line result-contacts");
  contacts.append(
    contact(doc, customer.email_masked, "no email"),
    contact(doc, customer.phone_masked, "no phone"),
  );
  option.append(top, contacts);
  return option;
}

// Results follow the keys: a search starts on the key that changed the query. While one is
// on its way, later keys only remember the newest query, which runs the moment the answer
// arrives; so the list is never more than one answer behind and never shows a stale one.
class Search {
  constructor(doc, onPick, onChange) {
    this.doc = doc;
    this.onPick = onPick;
    this.onChange = onChange;
    this.input = doc.getElementById("search");
    this.list = doc.getElementById("results-list");
    this.summary = doc.getElementById("results-summary");
    this.empty = doc.getElementById("results-empty");
    this.error = doc.getElementById("results-error");

    this.results = [];
    this.active = -1;
    this.inFlight = false;
    this.queued = null;
    // Every query gets a number; an answer is shown only if nothing was typed after it.
    this.asked = 0;
    this.shown = 0;
  }

  mount() {
    this.input.addEventListener("input", () => this.queryChanged());
    this.input.addEventListener("keydown", (event) => this.keyInBox(event));
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role='option']");
      if (option) {
        this.pick(this.results.findIndex((c) => String(c.id) === option.dataset.customerId));
      }
    });
  }

  queryChanged() {
    this.onChange();
    const query = this.input.value;
    const seq = ++this.asked;
    if (query.trim() === "") {
      this.queued = null;
      this.shown = seq;
      this.showIdle();
      return;
    }
    if (this.inFlight) {
      this.queued = { seq, query };
      return;
    }
    this.run(seq, query);
  }

  async run(seq, query) {
    this.inFlight = true;
    let outcome;
    try {
      outcome = { customers: await call("search_customers", { query, limit: RESULTS_PER_SEARCH }) };
    } catch (error) {
      outcome = { error };
    }
    this.inFlight = false;
    if (seq === this.asked) {
      this.shown = seq;
      if (outcome.error) {
        this.showError(outcome.error);
      } else {
        this.showResults(query, outcome.customers);
      }
    }
    const next = this.queued;
    this.queued = null;
    if (next && next.seq === this.asked) this.run(next.seq, next.query);
  }

  get upToDate() {
    return this.shown === this.asked;
  }

  showIdle() {
    this.results = [];
    this.active = -1;
    this.list.replaceChildren();
    this.list.hidden = true;
    this.error.hidden = true;
    this.empty.textContent = "Type to search";
    this.empty.hidden = false;
    this.summary.textContent = "";
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  showError(error) {
    this.showIdle();
    this.empty.hidden = true;
    this.error.textContent = error.message;
    this.error.hidden = false;
  }

  showResults(query, customers) {
    // Arrowing down while the next answer was on its way should not be undone by it.
    const wasActive = this.results[this.active]?.id;
    this.results = customers;
    this.list.replaceChildren(...customers.map((c) => optionFor(this.doc, c)));
    this.error.hidden = true;

    if (customers.length === 0) {
      this.list.hidden = true;
      this.empty.textContent = `No customers match “${query.trim()}”`;
      this.empty.hidden = false;
      this.summary.textContent = "";
      this.input.setAttribute("aria-expanded", "false");
      this.setActive(-1);
      return;
    }
    this.empty.hidden = true;
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.summary.textContent =
      customers.length < RESULTS_PER_SEARCH
        ? plural(customers.length, "customer matches", "customers match")
        : `First ${customers.length} matches · type more to narrow down`;
    this.setActive(customers.findIndex((c) => c.id === wasActive));
  }

  setActive(index) {
    const options = this.list.children;
    options[this.active]?.setAttribute("aria-selected", "false");
    this.active = index;
    const option = options[index];
    if (!option) {
      this.input.removeAttribute("aria-activedescendant");
      return;
    }
    option.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  keyInBox(event) {
    const count = this.results.length;
    switch (event.key) {
      case "ArrowDown":
        if (count === 0) return;
        event.preventDefault();
        this.setActive(this.active < 0 ? 0 : Math.min(this.active + 1, count - 1));
        break;
      case "ArrowUp":
        if (count === 0) return;
        event.preventDefault();
        this.setActive(this.active <= 0 ? 0 : this.active - 1);
        break;
      case "Enter":
        event.preventDefault();
        if (this.active >= 0) {
          this.pick(this.active);
        } else if (count === 1 && this.upToDate) {
          // A typed account number usually leaves exactly one; no need to arrow to it.
          this.pick(0);
        }
        break;
      default:
    }
  }

  pick(index) {
    const customer = this.results[index];
    if (!customer) return;
    this.setActive(index);
    this.onPick(customer);
  }

  clear() {
    this.asked += 1;
    this.shown = this.asked;
    this.queued = null;
    this.input.value = "";
    this.showIdle();
    this.input.focus();
  }
}

// The card of the customer at the counter, and the code sent to them: from "send" to a
// verdict nobody can misread.
class Card {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.card = this.$("customer-card");
    this.cardEmpty = this.$("customer-empty");
    this.customer = null;
    this.challenge = null;
    this.timer = undefined;
    this.sending = false;
    this.checking = false;
  }

  mount() {
    this.$("send-email").addEventListener("click", () => this.send("email"));
    this.$("send-sms").addEventListener("click", () => this.send("sms"));
    this.$("resend").addEventListener("click", () => this.send(this.challenge?.channel ?? "email"));
    this.$("switch-channel").addEventListener("click", () => {
      this.send(this.challenge?.channel === "email" ? "sms" : "email");
    });
    this.$("next-customer").addEventListener("click", () => this.app.desk.startOver());
    const input = this.$("code-input");
    input.addEventListener("input", () => this.codeTyped());
    this.$("verify-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.check(true);
    });
    input.addEventListener("paste", () => {
      // The pasted text arrives through the input event; nothing to add but a clean slate.
      this.$("code-error").textContent = "";
    });
  }

  show(customer) {
    this.reset();
    this.customer = customer;
    const $ = this.$;
    $("card-name").textContent = customer.name;
    $("card-account").textContent = customer.account_number;
    $("card-email").replaceChildren(contact(this.doc, customer.email_masked, "No email address on file"));
    $("card-phone").replaceChildren(contact(this.doc, customer.phone_masked, "No phone number on file"));
    this.card.dataset.customerId = String(customer.id);
    this.cardEmpty.hidden = true;
    this.card.hidden = false;
    this.refreshSendButtons();
    // The first send button that can be used takes the focus: one more Enter sends the code.
    const first = ["send-email", "send-sms"].map((id) => $(id)).find((b) => !b.disabled);
    (first ?? this.card).focus();
  }

  close() {
    this.reset();
    this.customer = null;
    this.card.hidden = true;
    delete this.card.dataset.customerId;
    this.cardEmpty.hidden = false;
  }

  reset() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.challenge = null;
    this.sending = false;
    this.checking = false;
    const $ = this.$;
    $("challenge").hidden = true;
    $("verdict").hidden = true;
    $("verdict").dataset.verdict = "";
    $("card-facts").hidden = false;
    $("send").hidden = false;
    $("send-error").hidden = true;
    $("code-input").value = "";
    $("code-input").disabled = false;
    $("code-error").textContent = "";
  }

  // Why a channel cannot be used right now, or null when it can.
  blocker(channelName) {
    const c = this.customer;
    const status = this.app.status;
    if (!c) return "Choose a customer first.";
    if (channelName === "email" && !c.has_email) return "No email address on file for this customer.";
    if (channelName === "sms" && !c.has_phone) return "No phone number on file for this customer.";
    if (channelName === "sms" && !status?.sms?.configured) {
      return status?.sms?.reason ?? "SMS is not set up yet; an admin can add it in Settings.";
    }
    if (!this.app.operator) return "Choose who is at the desk first (top right).";
    return null;
  }

  refreshSendButtons() {
    for (const name of ["email", "sms"]) {
      const reason = this.blocker(name);
      const button = this.$(`send-${name}`);
      button.disabled = reason !== null || this.sending;
      this.$(`send-${name}-reason`).textContent = reason ?? "";
    }
    this.refreshResend();
  }

  async send(channelName) {
    if (!this.customer || this.sending) return;
    const reason = this.blocker(channelName);
    if (reason) {
      this.showSendError(reason);
      return;
    }
    const $ = this.$;
    this.sending = true;
    clearInterval(this.timer);
    this.challenge = null;
    $("send-error").hidden = true;
    $("verdict").hidden = true;
    $("send").hidden = true;
    // While a code is out, the card is about the code: where it went, its time, the entry.
    $("card-facts").hidden = true;
    $("challenge").hidden = false;
    $("challenge-title").textContent = `Code on its way by ${CHANNEL_WORDS[channelName]}`;
    $("countdown-line").hidden = true;
    $("verify-form").hidden = true;
    $("resend").disabled = true;
    $("switch-channel").hidden = true;
    this.deliveryState("sending", "Sending…", "");

    const progress = channel((update) => this.progressed(update));
    let sent;
    try {
      sent = await call("send_code", {
        customerId: this.customer.id,
        channel: channelName,
        onProgress: progress,
      });
    } catch (error) {
      this.sending = false;
      this.sendFailed(channelName, error);
      return;
    }
    this.sending = false;
    if (!this.customer || String(this.customer.id) !== this.card.dataset.customerId) return;
    syncWithApp(sent.now);
    this.challenge = sent;
    const via = sent.account_kind === "outbox"
      ? `saved in the local outbox (${sent.account})`
      : `via ${sent.account}`;
    this.deliveryState("sent", "Sent", `to ${sent.sent_to} by ${CHANNEL_WORDS[sent.channel]}, ${via}.`);
    if (sent.sms_status) this.smsStatus(sent.sms_status);
    $("challenge-title").textContent = `Code sent by ${CHANNEL_WORDS[sent.channel]}`;
    $("countdown-line").hidden = false;
    $("verify-form").hidden = false;
    $("code-hint").textContent =
      `${sent.digits} digits. Checked as soon as all digits are in; spaces and dashes are ignored.`;
    const input = $("code-input");
    input.value = "";
    input.disabled = false;
    input.setAttribute("maxlength", String(sent.digits + 8));
    this.tick();
    this.timer = setInterval(() => this.tick(), 250);
    input.focus();
  }

  // Delivery news: each try and pause while the send is under way, then, for an SMS, what
  // Twilio says about the message until it is delivered (or is not).
  progressed(message) {
    if (!message) return;
    if (message.kind === "sms") {
      this.smsStatus(message.update);
      return;
    }
    const update = message.update;
    if (!update || this.challenge) return;
    switch (update.state) {
      case "sending":
        this.deliveryState(
          "sending",
          update.attempt > 1 ? `Sending (try ${update.attempt})…` : "Sending…",
          "",
        );
        break;
      case "retrying":
        this.deliveryState(
          "retrying",
          `Retrying in ${Math.ceil((update.delay_ms ?? 0) / 1000)} s`,
          update.hint ?? "",
        );
        break;
      default:
    }
  }

  smsStatus(status) {
    const c = this.challenge;
    if (!status || !c || c.channel !== "sms") return;
    const words = {
      queued: ["sent", "Sent, queued at Twilio"],
      sending: ["sent", "Sent, on its way to the phone"],
      sent: ["sent", "Sent to the phone network"],
      delivered: ["sent", "Delivered to the phone"],
      undelivered: ["failed", "Not delivered"],
      failed: ["failed", "Not delivered"],
      unconfirmed: ["sent", "Sent (delivery not confirmed)"],
    };
    const [tone, word] = words[status.state] ?? ["sent", "Sent"];
    this.deliveryState(tone, word, `to ${c.sent_to} by SMS via ${c.account}. ${status.message ?? ""}`.trim());
    this.$("delivery").dataset.sms = status.state;
  }

  deliveryState(state, word, detail) {
    this.$("delivery").dataset.state = state;
    this.$("delivery-state").textContent = word;
    this.$("delivery-detail").textContent = detail;
  }

  sendFailed(channelName, error) {
    const $ = this.$;
    if (error.kind === "delivery_failed") {
      // The code was cancelled: the clerk may send again at once, or switch channel.
      this.deliveryState("failed", "Not delivered", error.message);
      $("countdown-line").hidden = true;
      $("verify-form").hidden = true;
      $("send").hidden = false;
      this.refreshSendButtons();
      $(`send-${channelName}`).focus();
      return;
    }
    $("challenge").hidden = true;
    $("card-facts").hidden = false;
    $("send").hidden = false;
    this.refreshSendButtons();
    let message = error.message;
    if (error.at && (error.kind === "cooldown" || error.kind === "send_cap")) {
      message = `${message.split(";")[0]}. Another code can be sent at ${clockTime(error.at)}.`;
    }
    if (error.kind === "contact_locked" && error.at) {
      message = `Too many wrong codes for this contact: locked until ${clockTime(error.at)}. Check the customer's identity another way.`;
    }
    this.showSendError(message);
    $(`send-${channelName}`).focus();
  }

  showSendError(message) {
    this.$("send-error-message").textContent = message;
    this.$("send-error").hidden = false;
  }

  tick() {
    const c = this.challenge;
    if (!c) return;
    const left = c.expires_at - appNow();
    const $ = this.$;
    if (left <= 0 && !this.finished) {
      $("code-countdown").textContent = "expired";
      $("countdown-line").dataset.state = "expired";
      this.verdict({
        outcome: "expired",
        verified: false,
      });
      return;
    }
    $("countdown-line").dataset.state = left < 60_000 ? "low" : "";
    $("code-countdown").textContent = minutesSeconds(left);
    this.refreshResend();
  }

  get finished() {
    return this.$("verdict").dataset.verdict !== "" && this.$("verdict").dataset.verdict !== "wrong_code";
  }

  refreshResend() {
    const c = this.challenge;
    const resend = this.$("resend");
    const other = this.$("switch-channel");
    if (!c) return;
    const wait = c.resend_at - appNow();
    const sameReason = this.blocker(c.channel);
    if (sameReason) {
      resend.disabled = true;
      resend.textContent = "Send a new code";
    } else if (wait > 0) {
      resend.disabled = true;
      resend.textContent = `Send a new code (in ${minutesSeconds(wait)})`;
    } else {
      resend.disabled = false;
      resend.textContent = "Send a new code";
    }
    const otherName = c.channel === "email" ? "sms" : "email";
    const otherReason = this.blocker(otherName);
    other.hidden = otherReason !== null;
    other.textContent = `Send by ${CHANNEL_WORDS[otherName]} instead`;
  }

  codeTyped() {
    const input = this.$("code-input");
    const error = this.$("code-error");
    const raw = input.value;
    if (/[^0-9\s-]/.test(raw)) {
      error.textContent = "A code has only digits; check what was typed.";
      return;
    }
    error.textContent = "";
    this.check(false);
  }

  // Checks the code once every digit is in (or on Enter, whatever was typed: the app then
  // says what is wrong with it without costing an attempt).
  async check(explicit) {
    const c = this.challenge;
    if (!c || this.checking || this.finished) return;
    const input = this.$("code-input");
    const digits = input.value.replace(/[\s-]/g, "");
    if (!explicit && digits.length !== c.digits) return;
    if (!explicit && /\D/.test(digits)) return;
    this.checking = true;
    input.disabled = true;
    let result;
    try {
      result = await call("verify_code", { challengeId: c.challenge_id, code: input.value });
    } catch (error) {
      this.checking = false;
      input.disabled = false;
      this.$("code-error").textContent = error.message;
      input.focus();
      return;
    }
    this.checking = false;
    if (this.challenge !== c) return;
    syncWithApp(result.now);
    this.verdict(result);
  }

  verdict(result) {
    const $ = this.$;
    const box = $("verdict");
    const word = $("verdict-word");
    const detail = $("verdict-detail");
    const next = $("verdict-next");
    const input = $("code-input");
    box.hidden = false;
    box.dataset.verdict = result.outcome;
    $("next-customer").hidden = false;

    box.scrollIntoView({ block: "nearest" });
    if (result.verified) {
      clearInterval(this.timer);
      $("card-facts").hidden = true;
      word.textContent = "VERIFIED";
      detail.textContent = `${this.customer?.name ?? "The customer"} · checked at ${clockTime(result.at)} by ${result.operator}`;
      next.textContent = "The customer controls the contact on file. Carry on with their request.";
      $("challenge").hidden = true;
      $("next-customer").focus();
      return;
    }

    word.textContent = "NOT VERIFIED";
    switch (result.outcome) {
      case "wrong_code": {
        const left = result.attempts_left;
        detail.textContent = `Wrong code. ${plural(left, "attempt", "attempts")} left.`;
        next.textContent = "Ask the customer to read the code again, digit by digit.";
        $("next-customer").hidden = true;
        input.disabled = false;
        input.value = "";
        input.focus();
        return;
      }
      case "expired":
        detail.textContent = "The code has expired.";
        next.textContent = "Send a new code.";
        break;
      case "too_many_attempts":
        detail.textContent = "Too many wrong entries: this code no longer works.";
        next.textContent = "Send a new code; if it happens again, check identity another way.";
        break;
      case "locked":
        detail.textContent = `Too many wrong codes for this contact. Locked until ${clockTime(result.until)}.`;
        next.textContent = "Check the customer's identity another way.";
        break;
      case "already_used":
        detail.textContent = "This code was already used.";
        next.textContent = "Send a new code.";
        break;
      case "no_active_code":
        detail.textContent = "No code is waiting for this contact (a newer one may have replaced it).";
        next.textContent = "Send a new code.";
        break;
      default:
        detail.textContent = result.explanation ?? "";
        next.textContent = "";
    }
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refreshResend(), 250);
    $("card-facts").hidden = true;
    $("verify-form").hidden = true;
    $("countdown-line").hidden = true;
    this.refreshResend();
    const resend = $("resend");
    (resend.disabled ? $("next-customer") : resend).focus();
  }
}

export class Desk {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.card = new Card(doc, app);
    this.search = new Search(
      doc,
      (customer) => this.card.show(customer),
      () => this.card.close(),
    );
  }

  mount() {
    const doc = this.doc;
    // Results arrive while typing; Enter has nowhere else to go.
    doc.getElementById("search-form").addEventListener("submit", (event) => event.preventDefault());
    this.search.mount();
    this.card.mount();
  }

  // The header's operator or the app status changed: what the card may offer changes too.
  refresh() {
    if (this.card.customer) this.card.refreshSendButtons();
  }

  show() {
    this.doc.getElementById("search").focus();
  }

  // Esc: the next customer steps up.
  startOver() {
    this.card.close();
    this.search.clear();
  }
}
