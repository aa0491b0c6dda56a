// The desk screen: where a clerk finds the customer standing at the counter.
//
// Everything a customer record brings in (name, account, masked contacts) is untrusted text
// from a CSV file or a form, so it only ever reaches the page through textContent.

import { call } from "../ipc.js";

// Long enough to skip the searches a fast typist makes redundant a few milliseconds later,
// short enough that results still feel like they follow each key.
const SEARCH_DELAY_MS = 60;
// One screen of results; the clerk narrows the search rather than scrolls.
const RESULTS_PER_SEARCH = 20;

function plural(count, one, many) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

function showStatus(doc, status) {
  const db = doc.getElementById("status-db");
  const path = doc.createElement("code");
  path.id = "status-db-path";
  path.textContent = status.database_path;
  db.replaceChildren("Database ", path);
  doc.getElementById("status-customers").textContent = plural(
    status.customers,
    "customer",
    "customers",
  );
  doc.getElementById("status-version").textContent =
    `Version ${status.version} · schema ${status.schema_version}`;
}

function showStartupError(doc, error) {
  if (!String(error.kind).startsWith("database")) {
    doc.getElementById("startup-error-title").textContent = "OTP Desk could not start properly";
  }
  doc.getElementById("startup-error-message").textContent = error.message;
  doc.getElementById("startup-error").hidden = false;
  doc.getElementById("status-db").textContent = "Database unavailable";
  doc.getElementById("status").classList.add("status-error");
}

function element(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

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

class Search {
  constructor(doc) {
    this.doc = doc;
    this.input = doc.getElementById("search");
    this.list = doc.getElementById("results-list");
    this.summary = doc.getElementById("results-summary");
    this.empty = doc.getElementById("results-empty");
    this.error = doc.getElementById("results-error");
    this.cardEmpty = doc.getElementById("customer-empty");
    this.card = doc.getElementById("customer-card");

    this.results = [];
    this.active = -1;
    this.timer = undefined;
    // Every search gets a number; an answer is shown only if nothing was asked after it, so
    // a slow answer to "jo" can never replace the answer to "jo smith".
    this.asked = 0;
    this.shown = 0;
  }

  mount() {
    this.input.addEventListener("input", () => this.queryChanged());
    this.input.addEventListener("keydown", (event) => this.keyInBox(event));
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role='option']");
      if (option) this.pick(this.results.findIndex((c) => String(c.id) === option.dataset.customerId));
    });
    // Esc starts over from anywhere on the desk, the card included.
    this.doc.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        this.clear();
      }
    });
  }

  queryChanged() {
    clearTimeout(this.timer);
    this.closeCard();
    const query = this.input.value;
    const seq = ++this.asked;
    if (query.trim() === "") {
      this.shown = seq;
      this.showIdle();
      return;
    }
    this.timer = setTimeout(() => this.run(seq, query), SEARCH_DELAY_MS);
  }

  async run(seq, query) {
    let outcome;
    try {
      outcome = { customers: await call("search_customers", { query, limit: RESULTS_PER_SEARCH }) };
    } catch (error) {
      outcome = { error };
    }
    if (seq !== this.asked) return;
    this.shown = seq;
    if (outcome.error) {
      this.showError(outcome.error);
    } else {
      this.showResults(query, outcome.customers);
    }
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
    const doc = this.doc;
    doc.getElementById("card-name").textContent = customer.name;
    doc.getElementById("card-account").textContent = customer.account_number;
    doc
      .getElementById("card-email")
      .replaceChildren(contact(doc, customer.email_masked, "No email address on file"));
    doc
      .getElementById("card-phone")
      .replaceChildren(contact(doc, customer.phone_masked, "No phone number on file"));
    this.card.dataset.customerId = String(customer.id);
    this.cardEmpty.hidden = true;
    this.card.hidden = false;
    // The card is where the clerk works next; moving focus there also has a screen reader
    // read out who was picked.
    this.card.focus();
  }

  closeCard() {
    // A card left open while the clerk searches for someone else would sit next to results
    // it no longer belongs to.
    this.card.hidden = true;
    delete this.card.dataset.customerId;
    this.cardEmpty.hidden = false;
  }

  clear() {
    clearTimeout(this.timer);
    this.asked += 1;
    this.shown = this.asked;
    this.input.value = "";
    this.closeCard();
    this.showIdle();
    this.input.focus();
  }
}

export async function mountDesk(doc) {
  const search = doc.getElementById("search");
  // autofocus is not honoured by every webview once the page is already shown.
  search.focus();
  // Results arrive while typing; Enter has nowhere else to go.
  doc.getElementById("search-form").addEventListener("submit", (event) => event.preventDefault());
  new Search(doc).mount();

  try {
    showStatus(doc, await call("app_status"));
  } catch (error) {
    showStartupError(doc, error);
  }
}
