// The Customers screen (admin only): the customer list with search and paging, add and edit
// with the core's messages under each field, delete, CSV import (preview, progress, report of
// rejected rows) and CSV export.
//
// Every value here comes from a customer record or a file, so it reaches the page only
// through textContent (element() from format.js); nothing is ever parsed as HTML.

import { call, channel } from "../ipc.js";
import { dateTime, element, plural } from "../format.js";

const PAGE_SIZE = 50;
const FIRST_ROW = Symbol("first row");
const FIELDS = ["account_number", "name", "email", "phone", "service_address", "notes"];
const FIELD_WORDS = {
  account_number: "account number",
  name: "name",
  email: "email",
  phone: "phone",
  service_address: "service address",
  notes: "notes",
};
const DELIMITER_WORDS = { ",": "commas", ";": "semicolons", "\t": "tabs" };

function number(n) {
  return Number(n).toLocaleString();
}

function megabytes(bytes) {
  return (bytes / (1024 * 1024)).toLocaleString(undefined, { maximumFractionDigits: 1 });
}

// "12 KB", "10.4 MB": the size as a file manager would show it.
function size(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024)).toLocaleString()} KB`;
  return `${megabytes(bytes)} MB`;
}

function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// A message from the app as a sentence of prose: capital first, full stop last.
function prose(text) {
  const s = sentence(String(text ?? "").trim());
  return s === "" || /[.!?)]$/.test(s) ? s : `${s}.`;
}

// A command whose only argument is a file: its bytes travel as the raw request body (a 10 MB
// file stays 10 MB on the way, no JSON or base64), the rest as request headers.
async function sendFile(command, bytes, headers = {}) {
  const api = window.__TAURI__;
  if (!api?.core?.invoke) {
    throw { kind: "no_app", message: "This page only works inside the OTP Desk app." };
  }
  try {
    return await api.core.invoke(command, bytes, { headers });
  } catch (error) {
    if (error && typeof error === "object" && "kind" in error && "message" in error) throw error;
    throw { kind: "internal", message: String(error) };
  }
}

// A contact the record does not hold is said in words, styled apart from values.
function cell(doc, value, missing, className) {
  const td = element(doc, "td", className);
  if (value === null || value === undefined || value === "") {
    td.append(element(doc, "span", "missing", missing));
  } else {
    td.textContent = value;
  }
  return td;
}

// The list: search box, table, pager. Rows are buttons, so Tab reaches each one and Enter
// opens it; the arrow keys move between them too.
class CustomerList {
  constructor(screen) {
    this.screen = screen;
    this.doc = screen.doc;
    this.$ = screen.$;
    this.query = "";
    this.offset = 0;
    this.page = null;
    this.asked = 0;
  }

  mount() {
    const $ = this.$;
    const input = $("customers-search");
    input.addEventListener("input", () => {
      this.query = input.value;
      this.offset = 0;
      this.load();
    });
    input.addEventListener("keydown", (event) => this.keyInSearch(event));
    $("customers-search-form").addEventListener("submit", (event) => event.preventDefault());
    $("customers-prev").addEventListener("click", () => this.turn(-1));
    $("customers-next").addEventListener("click", () => this.turn(1));
    const rows = $("customers-rows");
    rows.addEventListener("keydown", (event) => this.keyInRows(event));
    rows.addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-customer-id]");
      if (row) this.screen.editor.open(Number(row.dataset.customerId));
    });
  }

  // Answers can arrive out of order while typing; only the newest one is shown.
  async load(focusId) {
    const seq = ++this.asked;
    let page;
    try {
      page = await call("list_customers", {
        query: this.query,
        limit: PAGE_SIZE,
        offset: this.offset,
      });
    } catch (error) {
      if (seq !== this.asked || this.screen.locked(error)) return;
      this.showError(error);
      return;
    }
    if (seq !== this.asked) return;
    // A page emptied by deletes elsewhere: step back to the last one with customers.
    if (page.customers.length === 0 && this.offset > 0) {
      this.offset = Math.max(0, this.offset - PAGE_SIZE);
      this.load(focusId);
      return;
    }
    this.page = page;
    this.render(page);
    if (focusId === FIRST_ROW) {
      (this.buttons()[0] ?? this.$("customers-search")).focus();
    } else if (focusId !== undefined) {
      this.focusCustomer(focusId);
    }
  }

  showError(error) {
    const box = this.$("customers-error");
    box.textContent = error.message;
    box.hidden = false;
  }

  render(page) {
    const $ = this.$;
    const doc = this.doc;
    $("customers-error").hidden = true;
    const searching = this.query.trim() !== "";
    $("customers-caption").textContent = searching
      ? `Customers matching “${this.query.trim()}”`
      : "All customers, by account number";
    const rows = page.customers.map((c) => {
      const tr = element(doc, "tr");
      tr.dataset.customerId = String(c.id);
      const name = element(doc, "td", "customers-name");
      const open = element(doc, "button", "row-open", c.name);
      open.type = "button";
      open.dataset.customerId = String(c.id);
      open.setAttribute("aria-label", `${c.name}, account ${c.account_number}: open`);
      name.append(open);
      tr.append(
        name,
        cell(doc, c.account_number, "", "mono"),
        cell(doc, c.email, "no email"),
        cell(doc, c.phone, "no phone"),
      );
      return tr;
    });
    $("customers-rows").replaceChildren(...rows);
    const empty = $("customers-empty");
    empty.hidden = rows.length > 0;
    empty.textContent = searching
      ? `No customers match “${this.query.trim()}”.`
      : "No customers yet. Add one, or import the list from the billing system (Import CSV…).";
    $("customers-range").textContent = this.rangeText(page, searching);
    $("customers-prev").disabled = page.offset === 0;
    $("customers-next").disabled = page.next_offset === null || page.next_offset === undefined;
  }

  rangeText(page, searching) {
    const shown = page.customers.length;
    if (shown === 0) return "";
    const range = `${number(page.offset + 1)}–${number(page.offset + shown)}`;
    const deeper = page.more && (page.next_offset === null || page.next_offset === undefined);
    if (page.total !== null && page.total !== undefined) {
      const text = `${range} of ${number(page.total)}`;
      return deeper ? `${text} · search to reach the others` : text;
    }
    if (!page.more && page.offset === 0) {
      return plural(shown, "customer matches", "customers match");
    }
    if (deeper) return `${range} · type more to narrow the search`;
    return page.more ? `${range} · more on the next page` : range;
  }

  // `focusFirst`: the keys turned the page from a row, whose button the new page replaces.
  turn(direction, focusFirst = false) {
    const page = this.page;
    if (!page) return;
    if (direction > 0 && page.next_offset !== null && page.next_offset !== undefined) {
      this.offset = page.next_offset;
    } else if (direction < 0 && page.offset > 0) {
      this.offset = Math.max(0, page.offset - PAGE_SIZE);
    } else {
      return;
    }
    this.load(focusFirst ? FIRST_ROW : undefined);
  }

  buttons() {
    return [...this.$("customers-rows").querySelectorAll("button.row-open")];
  }

  keyInSearch(event) {
    const buttons = this.buttons();
    if (event.key === "ArrowDown" && buttons.length > 0) {
      event.preventDefault();
      buttons[0].focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      // A typed account number usually leaves one customer: Enter opens it.
      if (buttons.length === 1) {
        this.screen.editor.open(Number(buttons[0].dataset.customerId));
      } else if (buttons.length > 1) {
        buttons[0].focus();
      }
    }
  }

  keyInRows(event) {
    const current = event.target.closest("button.row-open");
    if (!current) return;
    const buttons = this.buttons();
    const at = buttons.indexOf(current);
    let next = null;
    switch (event.key) {
      case "ArrowDown":
        next = buttons[Math.min(at + 1, buttons.length - 1)];
        break;
      case "ArrowUp":
        next = at === 0 ? this.$("customers-search") : buttons[at - 1];
        break;
      case "Home":
        next = buttons[0];
        break;
      case "End":
        next = buttons[buttons.length - 1];
        break;
      case "PageDown":
        if (!this.$("customers-next").disabled) this.turn(1, true);
        event.preventDefault();
        return;
      case "PageUp":
        if (!this.$("customers-prev").disabled) this.turn(-1, true);
        event.preventDefault();
        return;
      default:
        return;
    }
    event.preventDefault();
    next?.focus();
  }

  focusCustomer(id) {
    const button = this.buttons().find((b) => b.dataset.customerId === String(id));
    (button ?? this.$("customers-search")).focus();
  }
}

// Add and edit in a dialog: the core checks every field and says what is wrong with each;
// the message goes under its field.
class CustomerEditor {
  constructor(screen) {
    this.screen = screen;
    this.doc = screen.doc;
    this.$ = screen.$;
    this.customer = null;
    this.saving = false;
  }

  mount() {
    const $ = this.$;
    $("customers-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("customers-form-cancel").addEventListener("click", () => this.close());
    $("customers-delete").addEventListener("click", () => this.askDelete());
    $("customers-confirm-cancel").addEventListener("click", () => $("customers-confirm").close());
    $("customers-confirm-delete").addEventListener("click", () => this.delete());
    for (const field of FIELDS) {
      $(`customer-${field}`).addEventListener("input", () => this.clearField(field));
    }
  }

  input(field) {
    return this.$(`customer-${field}`);
  }

  clearField(field) {
    this.input(field).removeAttribute("aria-invalid");
    this.$(`customer-${field}-error`).textContent = "";
  }

  clearErrors() {
    for (const field of FIELDS) this.clearField(field);
    this.$("customers-form-error").textContent = "";
  }

  fill(customer) {
    for (const field of FIELDS) this.input(field).value = customer?.[field] ?? "";
    const hint = this.$("customer-phone-hint");
    if (customer?.phone_e164) {
      hint.textContent = `Text messages go to ${customer.phone_e164}.`;
    } else if (customer?.phone) {
      hint.textContent = "Kept as entered: it is not a complete number for the office's country, so no text message can go to it.";
    } else {
      hint.textContent = "";
    }
  }

  openNew() {
    this.customer = null;
    this.clearErrors();
    this.fill(null);
    this.$("customers-dialog-title").textContent = "Add customer";
    this.$("customers-form-meta").textContent = "";
    this.$("customers-delete").hidden = true;
    this.$("customers-dialog").showModal();
    this.input("account_number").focus();
  }

  async open(id) {
    let customer;
    try {
      customer = await call("get_customer", { customerId: id });
    } catch (error) {
      if (this.screen.locked(error)) return;
      this.screen.say(error.message);
      this.screen.list.load();
      return;
    }
    this.show(customer);
  }

  show(customer) {
    this.customer = customer;
    this.clearErrors();
    this.fill(customer);
    this.$("customers-dialog-title").textContent = `Edit ${customer.name}`;
    this.$("customers-form-meta").textContent = customer.updated_at > customer.created_at
      ? `Added ${dateTime(customer.created_at)} · last changed ${dateTime(customer.updated_at)}`
      : `Added ${dateTime(customer.created_at)}`;
    this.$("customers-delete").hidden = false;
    const dialog = this.$("customers-dialog");
    if (!dialog.open) dialog.showModal();
    this.input("account_number").focus();
  }

  close() {
    for (const id of ["customers-confirm", "customers-dialog"]) {
      const dialog = this.$(id);
      if (dialog.open) dialog.close();
    }
  }

  values() {
    const out = {};
    for (const field of FIELDS) out[field] = this.input(field).value;
    return out;
  }

  async save() {
    if (this.saving) return;
    this.saving = true;
    this.clearErrors();
    const button = this.$("customers-form-save");
    button.disabled = true;
    const editing = this.customer;
    let saved;
    try {
      saved = editing
        ? await call("update_customer", { customerId: editing.id, customer: this.values() })
        : await call("create_customer", { customer: this.values() });
    } catch (error) {
      this.saving = false;
      button.disabled = false;
      if (this.screen.locked(error)) {
        this.close();
        return;
      }
      this.showErrors(error);
      return;
    }
    this.saving = false;
    button.disabled = false;
    this.close();
    this.screen.say(`${editing ? "Saved" : "Added"} ${saved.name} (${saved.account_number}).`);
    this.screen.app.refreshStatus();
    this.screen.list.load(saved.id);
  }

  showErrors(error) {
    const problems = (error.fields ?? []).filter((p) => FIELDS.includes(p.field));
    for (const problem of problems) {
      const input = this.input(problem.field);
      const line = this.$(`customer-${problem.field}-error`);
      // One field may have several problems; each is a sentence of its own.
      const text = prose(problem.message);
      line.textContent = line.textContent ? `${line.textContent} ${text}` : text;
      input.setAttribute("aria-invalid", "true");
    }
    if (problems.length > 0) {
      this.input(problems[0].field).focus();
    } else {
      this.$("customers-form-error").textContent = prose(error.message);
    }
  }

  askDelete() {
    const c = this.customer;
    if (!c) return;
    this.$("customers-confirm-title").textContent = `Delete ${c.name}?`;
    this.$("customers-confirm-text").textContent =
      `${c.name} (account ${c.account_number}) is removed from the customer list with their finished codes. ` +
      "The activity log keeps what happened. This cannot be undone.";
    this.$("customers-confirm-error").textContent = "";
    this.$("customers-confirm").showModal();
    this.$("customers-confirm-cancel").focus();
  }

  async delete() {
    const c = this.customer;
    if (!c) return;
    const button = this.$("customers-confirm-delete");
    button.disabled = true;
    try {
      await call("delete_customer", { customerId: c.id });
    } catch (error) {
      button.disabled = false;
      if (this.screen.locked(error)) {
        this.close();
        return;
      }
      this.$("customers-confirm-error").textContent = prose(error.message);
      this.$("customers-confirm-cancel").focus();
      return;
    }
    button.disabled = false;
    this.close();
    this.customer = null;
    this.screen.say(`Deleted ${c.name} (${c.account_number}).`);
    this.screen.app.refreshStatus();
    this.screen.list.load();
    this.$("customers-search").focus();
  }
}

// The import, step by step: choose a file, check the preview and the columns, choose what
// happens to wrong rows, watch the progress, read the report.
class CustomerImport {
  constructor(screen) {
    this.screen = screen;
    this.doc = screen.doc;
    this.$ = screen.$;
    this.rules = null;
    this.file = null;
    this.bytes = null;
    this.running = false;
  }

  mount() {
    const $ = this.$;
    $("customers-file").addEventListener("change", () => this.chosen());
    $("customers-import-start").addEventListener("click", () => this.run());
    $("customers-import-cancel").addEventListener("click", () => this.screen.showList());
    $("customers-import-done").addEventListener("click", () => this.screen.showList());
    $("customers-import-again").addEventListener("click", () => this.reset(true));
  }

  async open() {
    if (!this.rules) {
      try {
        this.rules = await call("customer_import_rules");
      } catch (error) {
        if (this.screen.locked(error)) return false;
        this.screen.say(error.message);
        return false;
      }
      this.$("customers-file-hint").textContent =
        `UTF-8, separated by commas or semicolons, up to ${megabytes(this.rules.max_file_bytes)} MB.`;
    }
    if (!this.running) this.reset(false);
    return true;
  }

  reset(focusFile) {
    const $ = this.$;
    this.file = null;
    this.bytes = null;
    $("customers-choose").hidden = false;
    $("customers-file").value = "";
    $("customers-file").disabled = false;
    $("customers-file-error").textContent = "";
    $("customers-preview").hidden = true;
    $("customers-progress-step").hidden = true;
    $("customers-report").hidden = true;
    if (focusFile) $("customers-file").focus();
  }

  fileError(message) {
    this.$("customers-file-error").textContent = message;
    this.$("customers-file").setAttribute("aria-invalid", "true");
  }

  async chosen() {
    const $ = this.$;
    const file = $("customers-file").files?.[0];
    $("customers-file-error").textContent = "";
    $("customers-file").removeAttribute("aria-invalid");
    $("customers-preview").hidden = true;
    $("customers-progress-step").hidden = true;
    $("customers-report").hidden = true;
    this.file = null;
    this.bytes = null;
    if (!file) return;
    // Said before the file is read: reading a huge one would only make the window wait.
    if (this.rules && file.size > this.rules.max_file_bytes) {
      this.fileError(
        `${file.name} is ${size(file.size)}; an import takes at most ${megabytes(this.rules.max_file_bytes)} MB. Split the file into smaller files and import them one after the other.`,
      );
      return;
    }
    let bytes;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (error) {
      this.fileError(`${file.name} could not be read (${error?.message ?? error}). Choose it again, or copy it to this computer first.`);
      return;
    }
    let preview;
    try {
      preview = await sendFile("preview_customer_import", bytes);
    } catch (error) {
      if (this.screen.locked(error)) return;
      this.fileError(`${file.name}: ${prose(error.message)}`);
      return;
    }
    this.file = file;
    this.bytes = bytes;
    this.showPreview(file, preview);
  }

  showPreview(file, preview) {
    const $ = this.$;
    const doc = this.doc;
    $("customers-preview-file").textContent = file.name;
    const separated = DELIMITER_WORDS[preview.delimiter] ?? `“${preview.delimiter}”`;
    $("customers-preview-summary").textContent =
      `${size(file.size)}, values separated by ${separated}, ${plural(preview.headers.length, "column", "columns")}. ` +
      (preview.rows.length > 0
        ? `The first ${plural(preview.rows.length, "row is", "rows are")} shown below as the import reads them.`
        : "There are no rows under the header.");

    const mapping = preview.columns.map((c, i) => {
      const tr = element(doc, "tr");
      const name = c.column.trim() === "" ? `(column ${i + 1}, no name)` : c.column;
      tr.append(element(doc, "td", "", name));
      const read = element(doc, "td");
      if (c.field) {
        read.append(element(doc, "span", "badge", FIELD_WORDS[c.field] ?? c.field));
      } else {
        read.append(element(doc, "span", "missing", "not imported"));
      }
      tr.append(read);
      return tr;
    });
    $("customers-mapping-rows").replaceChildren(...mapping);

    const missing = $("customers-preview-missing");
    if (preview.missing.length > 0) {
      missing.textContent =
        `The file has no column for the ${preview.missing.join(" and the ")}, so it cannot be imported. ` +
        "Name that column in the header row (for example “Account number” or “Name”), save the file and choose it again.";
      missing.hidden = false;
    } else {
      missing.hidden = true;
    }
    $("customers-import-start").disabled = preview.missing.length > 0;

    const head = element(doc, "tr");
    const lineHead = element(doc, "th", "num", "Line");
    lineHead.scope = "col";
    head.append(lineHead);
    preview.columns.forEach((c, i) => {
      const th = element(doc, "th");
      th.scope = "col";
      th.append(element(doc, "span", "preview-column", c.column.trim() === "" ? `(column ${i + 1})` : c.column));
      th.append(
        c.field
          ? element(doc, "span", "badge preview-field", FIELD_WORDS[c.field] ?? c.field)
          : element(doc, "span", "missing preview-field", "not imported"),
      );
      head.append(th);
    });
    $("customers-preview-head").replaceChildren(head);
    const rows = preview.rows.map((row) => {
      const tr = element(doc, "tr");
      tr.append(element(doc, "td", "num", String(row.line)));
      for (const value of row.cells) tr.append(element(doc, "td", "", value));
      return tr;
    });
    $("customers-preview-rows").replaceChildren(...rows);
    $("customers-preview").hidden = false;
    $("customers-preview-title").focus();
  }

  mode() {
    return this.doc.querySelector("input[name='customers-mode']:checked")?.value ?? "all-or-nothing";
  }

  async run() {
    if (this.running || !this.bytes) return;
    const $ = this.$;
    const mode = this.mode();
    this.running = true;
    $("customers-import-start").disabled = true;
    $("customers-file").disabled = true;
    // While it runs and afterwards, the screen is about this import: the chooser steps aside
    // until "Import another file".
    $("customers-choose").hidden = true;
    $("customers-preview").hidden = true;
    $("customers-report").hidden = true;
    const bar = $("customers-progress");
    // Indeterminate until the first count arrives from the app.
    bar.removeAttribute("value");
    bar.removeAttribute("max");
    bar.dataset.updates = "0";
    $("customers-progress-label").textContent = `Importing ${this.file.name}…`;
    $("customers-progress-text").textContent = "Sending the file…";
    $("customers-progress-step").hidden = false;

    const progress = channel((p) => this.progressed(p));
    let answer;
    try {
      answer = await sendFile("import_customers", this.bytes, {
        [this.rules.mode_header]: mode,
        [this.rules.progress_header]: progress.toJSON(),
      });
    } catch (error) {
      this.running = false;
      $("customers-file").disabled = false;
      if (this.screen.locked(error)) return;
      this.failed(error);
      return;
    }
    this.running = false;
    $("customers-file").disabled = false;
    this.report(answer);
  }

  // Counts come from the app as it checks the rows; the bar shows only what it was told.
  progressed(p) {
    if (!p || typeof p.done !== "number" || typeof p.total !== "number") return;
    const bar = this.$("customers-progress");
    bar.max = Math.max(p.total, 1);
    bar.value = p.done;
    bar.dataset.updates = String(Number(bar.dataset.updates ?? 0) + 1);
    const done = p.done >= p.total;
    this.$("customers-progress-text").textContent = done
      ? `${number(p.done)} of ${plural(p.total, "row", "rows")} checked.`
      : `${number(p.done)} of ${plural(p.total, "row", "rows")} checked…`;
  }

  failed(error) {
    const $ = this.$;
    $("customers-choose").hidden = false;
    $("customers-progress-label").textContent = "Nothing was imported";
    $("customers-progress-text").textContent =
      `${prose(error.message)} The customer list is exactly as it was.`;
    $("customers-preview").hidden = false;
    $("customers-import-start").disabled = false;
    $("customers-import-start").focus();
  }

  report(a) {
    const $ = this.$;
    const doc = this.doc;
    const rejected = a.rejected_total;
    $("customers-progress-label").textContent = a.committed ? "Import finished" : "Import stopped";
    const title = $("customers-report-title");
    if (a.committed) {
      title.textContent = rejected > 0
        ? `Imported, with ${plural(rejected, "row", "rows")} left out`
        : "Imported";
      $("customers-report-summary").textContent =
        `${plural(a.rows, "row", "rows")} read from ${this.file.name}. ` +
        (rejected > 0
          ? "The good rows are saved; the rows listed below were left out."
          : "Every row was saved.") +
        ` There are now ${plural(a.customers, "customer", "customers")}.`;
    } else {
      title.textContent = "Nothing was imported";
      $("customers-report-summary").textContent =
        `${number(rejected)} of the ${plural(a.rows, "row", "rows")} in ${this.file.name} ${rejected === 1 ? "is" : "are"} wrong. ` +
        "In all-or-nothing mode one wrong row stops the whole import, so the customer list is exactly as it was.";
    }
    $("customers-count-inserted").textContent = number(a.inserted);
    $("customers-count-updated").textContent = number(a.updated);
    $("customers-count-unchanged").textContent = number(a.unchanged);
    $("customers-count-rejected").textContent = number(rejected);

    $("customers-rejected").hidden = rejected === 0;
    $("customers-report-fix").textContent = a.committed
      ? "To fix them: correct these lines in the file (line 1 is the header, as a spreadsheet or text editor counts) and import the whole file again. Rows already imported are matched by account number and stay as they are."
      : "To fix them: correct these lines in the file (line 1 is the header, as a spreadsheet or text editor counts) and import it again, or import it with “Import the good rows” to leave these rows out.";
    const rows = a.rejected.map((r) => {
      const tr = element(doc, "tr");
      tr.append(
        element(doc, "td", "num", String(r.line)),
        cell(doc, r.account_number, "none", "mono"),
        element(doc, "td", "", sentence(r.reason)),
      );
      return tr;
    });
    $("customers-rejected-rows").replaceChildren(...rows);
    $("customers-rejected-more").textContent = rejected > a.rejected.length
      ? `The first ${number(a.rejected.length)} of ${number(rejected)} rejected rows are listed; the rest are likely wrong in the same way.`
      : "";
    $("customers-ignored").textContent = a.ignored_columns.length > 0
      ? `Columns not imported: ${a.ignored_columns.join(", ")}.`
      : "";
    $("customers-report").hidden = false;
    title.focus();
    this.$("customers-import-title").scrollIntoView({ block: "start" });
    this.screen.app.refreshStatus();
  }
}

// The export: a CSV file in the downloads folder, in the form the import reads back.
class CustomerExport {
  constructor(screen) {
    this.screen = screen;
    this.$ = screen.$;
  }

  mount() {
    this.$("customers-export").addEventListener("click", () => this.run());
    this.$("customers-open-folder").addEventListener("click", () => this.openFolder());
  }

  async run() {
    const $ = this.$;
    const button = $("customers-export");
    button.disabled = true;
    $("customers-exported").hidden = true;
    this.screen.say("Exporting…");
    let done;
    try {
      done = await call("export_customers");
    } catch (error) {
      button.disabled = false;
      if (this.screen.locked(error)) return;
      this.screen.say(`The export failed: ${error.message}`);
      return;
    }
    button.disabled = false;
    this.screen.say("");
    $("customers-exported-text").textContent =
      `Exported ${plural(done.customers, "customer", "customers")} to ${done.path}`;
    $("customers-folder-note").textContent = "";
    $("customers-exported").hidden = false;
    $("customers-open-folder").focus();
  }

  async openFolder() {
    const note = this.$("customers-folder-note");
    try {
      const folder = await call("open_customers_export_folder");
      note.textContent = `Opened ${folder} in the file manager.`;
    } catch (error) {
      if (this.screen.locked(error)) return;
      note.textContent = error.message;
    }
  }
}

export class CustomersScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.list = new CustomerList(this);
    this.editor = new CustomerEditor(this);
    this.importer = new CustomerImport(this);
    this.exporter = new CustomerExport(this);
  }

  mount() {
    this.list.mount();
    this.editor.mount();
    this.importer.mount();
    this.exporter.mount();
    this.$("customers-add").addEventListener("click", () => this.editor.openNew());
    this.$("customers-import-open").addEventListener("click", () => this.showImport());
  }

  show() {
    this.$("customers-title").focus();
    this.list.load();
  }

  hide() {
    // A modal dialog left open on a hidden screen would keep the rest of the window inert.
    this.editor.close();
  }

  // The session ended under a command: the frame shows the unlock gate.
  locked(error) {
    if (error?.kind !== "admin_locked") return false;
    this.editor.close();
    this.app.adminLocked();
    return true;
  }

  say(text) {
    this.$("customers-status").textContent = text;
  }

  async showImport() {
    if (!(await this.importer.open())) return;
    this.$("customers-list").hidden = true;
    this.$("customers-exported").hidden = true;
    this.say("");
    this.$("customers-import").hidden = false;
    this.$("customers-import-title").focus();
  }

  showList() {
    this.$("customers-import").hidden = true;
    this.$("customers-list").hidden = false;
    this.list.load();
    this.$("customers-import-open").focus();
  }
}
