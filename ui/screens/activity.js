// The Activity screen (admin only): every code sent and checked, and the audit trail. It only
// reads: nothing on this screen changes any data.
//
// Two tabs, each a filtered, paged list with its own toolbar, so switching tabs keeps what
// each was filtered by. A code opens a dialog with its delivery tries and audit events.
// Names, accounts, details and server replies are untrusted text: textContent only.

import { call } from "../ipc.js";
import { dateTime, element, failureClassWords, localTimes, plural } from "../format.js";

const PAGE_ROWS = 50;
// The search waits for a pause in typing; a changed list or date applies at once (the short
// wait only folds the input and change events of one edit into one request).
const TYPING_PAUSE_MS = 250;
const CHOICE_PAUSE_MS = 30;

const STATE_TONES = {
  pending: "",
  verified: "ok",
  expired: "warn",
  dead: "bad",
  superseded: "",
  cancelled: "bad",
};
const RESULT_TONES = { ok: "ok", failed: "bad", refused: "warn" };
const CHANNEL_WORDS = { email: "Email", sms: "SMS" };

const hourMinute = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

// The words for coded values come from the filter lists, so each label is written once.
function wordsOf(select) {
  return new Map(
    [...select.options].filter((o) => o.value).map((o) => [o.value, o.textContent.trim()]),
  );
}

// A date input's "YYYY-MM-DD" as the clerk means it: their own calendar day, from its local
// midnight ("from") to the last millisecond before the next local midnight ("to", so the
// whole day is in). The Date object knows the days that daylight saving makes 23 or 25 hours
// long. Anything that is not a whole date is no filter.
export function localDayBound(value, endOfDay) {
  const match = /^(\d{4,6})-(\d{2})-(\d{2})$/.exec(value ?? "");
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(0);
  // setFullYear, not the constructor: the constructor reads years 0–99 as 1900–1999.
  date.setFullYear(year, month - 1, day + (endOfDay ? 1 : 0));
  date.setHours(0, 0, 0, 0);
  const ms = date.getTime();
  if (!Number.isFinite(ms)) return undefined;
  return endOfDay ? ms - 1 : ms;
}

function tookWords(ms) {
  if (ms < 1000) return `${ms.toLocaleString()} ms`;
  return `${(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} s`;
}

function sameLocalDay(a, b) {
  return dayOnly.format(new Date(a)) === dayOnly.format(new Date(b));
}

function timeNode(doc, ms, text) {
  const node = element(doc, "time", "", text ?? dateTime(ms));
  node.dateTime = new Date(ms).toISOString();
  return node;
}

function badge(doc, text, tone) {
  const node = element(doc, "span", "badge", text);
  if (tone) node.dataset.tone = tone;
  return node;
}

function missing(doc, text) {
  return element(doc, "span", "missing", text);
}

function customerNodes(doc, name, account) {
  const nodes = [];
  if (name !== null && name !== undefined) {
    nodes.push(element(doc, "span", "cell-name", name));
  } else if (account) {
    nodes.push(missing(doc, "no longer on file"));
  }
  if (account) nodes.push(element(doc, "span", "cell-account mono", account));
  return nodes.length ? nodes : [missing(doc, "—")];
}

function deliveryNodes(doc, last) {
  // A code issued for a script (`otp issue --print-code`) was never handed to a transport.
  if (!last) return [missing(doc, "no delivery tried")];
  const tries = last.tries > 1 ? ` · ${plural(last.tries, "try", "tries")}` : "";
  const outcome =
    last.status === "sent"
      ? badge(doc, "Sent", "ok")
      : badge(doc, failureClassWords(last.failure_class), "bad");
  return [outcome, element(doc, "span", "cell-sub", `${last.account}${tries}`)];
}

// A button that opens the code's dialog, showing `label` and naming the code for a screen
// reader.
function openButton(doc, codeId, label) {
  const button = element(doc, "button", "row-open");
  button.type = "button";
  button.dataset.codeId = String(codeId);
  button.append(label, element(doc, "span", "visually-hidden", `, details of code ${codeId}`));
  return button;
}

// One table row; each cell carries its column's name for the stacked layout of narrow windows.
function tableRow(doc, labels, contents, classes = []) {
  const tr = doc.createElement("tr");
  tr.setAttribute("role", "row");
  contents.forEach((content, i) => {
    const td = doc.createElement("td");
    td.setAttribute("role", "cell");
    td.dataset.label = labels[i] ?? "";
    if (classes[i]) td.className = classes[i];
    // One box per cell, so the stacked layout has exactly two parts: the label and this.
    const box = element(doc, "div", "cell-box");
    box.append(...(Array.isArray(content) ? content : [content]));
    td.append(box);
    tr.append(td);
  });
  return tr;
}

function headerLabels(table) {
  return [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
}

// One tab's list: the toolbar's filters, the table, the pager and the export.
class FilteredList {
  constructor(doc, app, spec) {
    this.doc = doc;
    this.app = app;
    this.spec = spec;
    this.$ = (name) => doc.getElementById(`${spec.prefix}-${name}`);
    this.offset = 0;
    this.asked = 0;
    this.lastAsked = undefined;
    this.timer = undefined;
  }

  get fields() {
    return ["text", ...this.spec.choices, "from", "to"];
  }

  mount() {
    for (const name of this.fields) {
      const input = this.$(name);
      const pause = name === "text" ? TYPING_PAUSE_MS : CHOICE_PAUSE_MS;
      input.addEventListener("input", () => this.changed(pause));
      // A text box also says "change" when it loses the focus after typing, which its
      // "input" events already answered; asking again would replace the rows just as the
      // clerk tabs into them.
      input.addEventListener("change", () => {
        if (JSON.stringify(this.query()) !== this.lastAsked) this.changed(CHOICE_PAUSE_MS);
      });
    }
    this.$("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changed(0);
    });
    this.$("clear").addEventListener("click", () => this.clear());
    this.$("export").addEventListener("click", () => this.exportCsv());
    this.$("open-folder").addEventListener("click", () => this.openFolder());
    this.$("prev").addEventListener("click", () => this.turn(-1));
    this.$("next").addEventListener("click", () => this.turn(1));
    const rows = this.$("rows");
    rows.addEventListener("keydown", (event) => this.keyInRows(event));
    rows.addEventListener("click", (event) => this.clickInRows(event));
    this.labels = headerLabels(this.$("table"));
  }

  // What the toolbar says, as the command takes it. Empty filters are left out.
  query() {
    const query = {};
    const text = this.$("text").value;
    if (text.trim()) query.text = text;
    for (const name of this.spec.choices) {
      const value = this.$(name).value;
      if (value) query[name] = value;
    }
    const from = localDayBound(this.$("from").value, false);
    if (from !== undefined) query.from = from;
    const to = localDayBound(this.$("to").value, true);
    if (to !== undefined) query.to = to;
    return query;
  }

  // Busy from the moment the filters change until their answer is on screen, so assistive
  // technology (and the tests) know the rows are about to be replaced.
  busy(on) {
    this.$("table").setAttribute("aria-busy", String(on));
  }

  changed(pause) {
    this.offset = 0;
    this.busy(true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), pause);
  }

  turn(direction) {
    this.offset = Math.max(0, this.offset + direction * PAGE_ROWS);
    this.load();
  }

  clear() {
    this.$("text").value = "";
    for (const name of [...this.spec.choices, "from", "to"]) this.$(name).value = "";
    this.$("saved").hidden = true;
    this.changed(0);
    this.$("text").focus();
  }

  async load() {
    clearTimeout(this.timer);
    this.busy(true);
    const seq = ++this.asked;
    const filters = this.query();
    this.lastAsked = JSON.stringify(filters);
    const query = { ...filters, limit: PAGE_ROWS, offset: this.offset };
    let page;
    let failure;
    try {
      page = await call(this.spec.list, { query });
    } catch (error) {
      failure = error;
    }
    // Only the answer to the newest question is shown; the filters changed since.
    if (seq !== this.asked) return;
    this.clearErrors();
    if (failure) {
      this.failed(failure);
    } else {
      this.render(page);
    }
    this.busy(false);
  }

  clearErrors() {
    for (const name of this.fields) {
      this.$(name).removeAttribute("aria-invalid");
      this.$(`${name}-error`).textContent = "";
    }
    this.$("page-error").textContent = "";
    this.$("error").hidden = true;
  }

  // Puts an error where it belongs: under the filter it is about, at the pager, or above
  // the table. Answers false when the admin area locked meanwhile (the frame takes over).
  failed(error) {
    if (error.kind === "admin_locked") {
      this.app.adminLocked();
      return false;
    }
    const field = error.fields?.[0]?.field;
    if (field === "page") {
      this.$("page-error").textContent = error.message;
      return true;
    }
    this.showRows([]);
    this.$("empty").hidden = true;
    this.$("range").textContent = "";
    if (field && this.fields.includes(field)) {
      this.$(field).setAttribute("aria-invalid", "true");
      this.$(`${field}-error`).textContent = error.message;
    } else {
      this.$("error").textContent = error.message;
      this.$("error").hidden = false;
    }
    return true;
  }

  // New rows replace the old ones whenever an answer arrives. Focus on a row stays on the
  // row at the same place (or the last one), or goes back to the search box when no row is
  // left, instead of falling to the page.
  showRows(items) {
    const at = this.rowButtons().indexOf(this.doc.activeElement);
    this.$("rows").replaceChildren(...items.map((item) => this.spec.row(this, item)));
    if (at < 0) return;
    const now = this.rowButtons();
    (now[Math.min(at, now.length - 1)] ?? this.$("text")).focus();
  }

  rowButtons() {
    return [...this.$("rows").querySelectorAll("button.row-open")];
  }

  render(page) {
    this.offset = page.offset;
    this.showRows(page.rows);
    this.$("empty").hidden = page.rows.length > 0;
    const first = page.offset + 1;
    const last = page.offset + page.rows.length;
    const atDepth = page.offset + page.limit > page.max_offset;
    const range = this.$("range");
    if (page.total === 0) {
      range.textContent = `No ${this.spec.noun[1]}`;
    } else if (page.rows.length === 0) {
      range.textContent = `No more ${this.spec.noun[1]} (${page.total.toLocaleString()} in all)`;
    } else {
      range.textContent = `${first.toLocaleString()}–${last.toLocaleString()} of ${page.total.toLocaleString()}`;
      if (atDepth && last < page.total) {
        range.textContent += " · narrow the filters or export to see the older ones";
      }
    }
    const prev = this.$("prev");
    const next = this.$("next");
    const focused = this.doc.activeElement;
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.total || atDepth;
    // A pager button that just went dim would drop the focus to the page; its twin keeps it.
    if (focused === next && next.disabled && !prev.disabled) prev.focus();
    if (focused === prev && prev.disabled && !next.disabled) next.focus();
  }

  keyInRows(event) {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    const buttons = this.rowButtons();
    const at = buttons.indexOf(this.doc.activeElement);
    if (at < 0) return;
    event.preventDefault();
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    buttons[Math.max(0, Math.min(to, buttons.length - 1))].focus();
  }

  clickInRows(event) {
    const button = event.target.closest("button.row-open");
    const row = event.target.closest("tr");
    // A click anywhere on a code's row opens it, as its button does (selecting text does not).
    const opener = button ?? row?.querySelector("button.row-open");
    if (!opener) return;
    if (!button && this.doc.getSelection()?.toString()) return;
    this.spec.open(Number(opener.dataset.codeId), opener);
  }

  async exportCsv() {
    const button = this.$("export");
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Exporting…";
    this.$("saved").hidden = true;
    try {
      const done = await call(this.spec.export, { query: this.query() });
      this.clearErrors();
      const where = element(this.doc, "code", "saved-file", done.file);
      this.$("saved-text").replaceChildren(
        `Saved ${plural(done.rows, this.spec.noun[0], this.spec.noun[1])} to `,
        where,
      );
      this.$("saved").hidden = false;
    } catch (error) {
      this.clearErrors();
      if (error.kind === "admin_locked") {
        this.app.adminLocked();
      } else {
        const field = error.fields?.[0]?.field;
        if (field && this.fields.includes(field)) {
          this.$(field).setAttribute("aria-invalid", "true");
          this.$(`${field}-error`).textContent = error.message;
        } else {
          this.$("error").textContent = error.message;
          this.$("error").hidden = false;
        }
      }
    }
    button.textContent = label;
    button.disabled = false;
  }

  async openFolder() {
    try {
      await call("activity_open_exports_folder");
    } catch (error) {
      if (error.kind === "admin_locked") {
        this.app.adminLocked();
        return;
      }
      this.$("error").textContent = error.message;
      this.$("error").hidden = false;
    }
  }
}

function codeRow(list, code) {
  const doc = list.doc;
  const created = openButton(doc, code.challenge_id, timeNode(doc, code.created_at));
  const expires = timeNode(
    doc,
    code.expires_at,
    sameLocalDay(code.created_at, code.expires_at)
      ? hourMinute.format(new Date(code.expires_at))
      : dateTime(code.expires_at),
  );
  const tr = tableRow(
    doc,
    list.labels,
    [
      created,
      customerNodes(doc, code.customer_name, code.account_number),
      element(doc, "span", "masked-contact", code.contact),
      CHANNEL_WORDS[code.channel] ?? code.channel,
      badge(doc, list.spec.words.state.get(code.state) ?? code.state, STATE_TONES[code.state]),
      expires,
      `${code.attempts} / ${code.max_attempts}`,
      element(doc, "span", "", code.operator),
      deliveryNodes(doc, code.last_delivery),
    ],
    ["", "", "", "", "", "", "num", "", ""],
  );
  tr.dataset.codeId = String(code.challenge_id);
  tr.classList.add("opens");
  return tr;
}

function auditRow(list, entry) {
  const doc = list.doc;
  const when = timeNode(doc, entry.at);
  const words = list.spec.words;
  const tr = tableRow(doc, list.labels, [
    entry.code_id ? openButton(doc, entry.code_id, when) : when,
    words.kind.get(entry.kind) ?? entry.kind,
    badge(doc, words.result.get(entry.result) ?? entry.result, RESULT_TONES[entry.result]),
    element(doc, "span", "", entry.operator),
    customerNodes(doc, entry.customer_name, entry.account_number),
    entry.channel ? CHANNEL_WORDS[entry.channel] ?? entry.channel : missing(doc, "—"),
    entry.destination ? element(doc, "span", "masked-contact", entry.destination) : missing(doc, "—"),
    element(doc, "span", "cell-detail", localTimes(entry.detail)),
  ]);
  if (entry.code_id) {
    tr.dataset.codeId = String(entry.code_id);
    tr.classList.add("opens");
  }
  return tr;
}

// Everything that happened to one code: who sent it where, each delivery try with the
// server's reply, each check with its verdict.
class CodeDialog {
  constructor(doc, app, words) {
    this.doc = doc;
    this.app = app;
    this.words = words;
    this.$ = (id) => doc.getElementById(id);
    this.dialog = this.$("code-dialog");
    this.opener = null;
    this.asked = 0;
  }

  mount() {
    this.$("code-dialog-close").addEventListener("click", () => this.close());
    this.dialog.addEventListener("close", () => {
      this.asked += 1;
      this.opener?.focus();
      this.opener = null;
    });
    this.deliveryLabels = headerLabels(this.$("code-deliveries"));
    this.eventLabels = headerLabels(this.$("code-events"));
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  async open(codeId, opener) {
    const seq = ++this.asked;
    this.opener = opener;
    this.$("code-dialog-title").textContent = `Code ${codeId}`;
    this.$("code-dialog-error").textContent = "";
    this.$("code-dialog-facts").replaceChildren();
    this.$("code-deliveries-rows").replaceChildren();
    this.$("code-events-rows").replaceChildren();
    this.$("code-deliveries-none").hidden = true;
    if (!this.dialog.open) this.dialog.showModal();
    this.$("code-dialog-close").focus();
    let detail;
    try {
      detail = await call("activity_code_detail", { challengeId: codeId });
    } catch (error) {
      if (seq !== this.asked) return;
      if (error.kind === "admin_locked") {
        this.close();
        this.app.adminLocked();
        return;
      }
      this.$("code-dialog-error").textContent = error.message;
      return;
    }
    if (seq !== this.asked) return;
    this.render(detail);
  }

  render(detail) {
    const doc = this.doc;
    const code = detail.code;
    const who = code.customer_name ?? code.account_number ?? "a customer no longer on file";
    this.$("code-dialog-title").textContent = `Code ${code.challenge_id} · ${who}`;
    const facts = [
      ["Customer", customerNodes(doc, code.customer_name, code.account_number)],
      ["Sent to", [element(doc, "span", "masked-contact", code.contact), ` by ${code.channel === "sms" ? "SMS" : "email"}`]],
      ["State", [badge(doc, this.words.state.get(code.state) ?? code.state, STATE_TONES[code.state])]],
      ["Created", [timeNode(doc, code.created_at)]],
      ["Expires", [timeNode(doc, code.expires_at)]],
      ["Used", [code.used_at ? timeNode(doc, code.used_at) : missing(doc, "not used")]],
      ["Attempts", [`${code.attempts} of ${code.max_attempts} used`]],
      ["Issued by", [element(doc, "span", "", code.operator)]],
    ];
    this.$("code-dialog-facts").replaceChildren(
      ...facts.map(([term, value]) => {
        const group = element(doc, "div", "code-fact");
        const dd = doc.createElement("dd");
        dd.append(...value);
        group.append(element(doc, "dt", "", term), dd);
        return group;
      }),
    );

    this.$("code-deliveries-none").hidden = detail.deliveries.length > 0;
    this.$("code-deliveries-wrap").hidden = detail.deliveries.length === 0;
    this.$("code-deliveries-rows").replaceChildren(
      ...detail.deliveries.map((d) => {
        const outcome =
          d.status === "sent"
            ? [badge(doc, "Sent", "ok")]
            : [badge(doc, failureClassWords(d.failure_class), "bad")];
        if (d.hint) outcome.push(element(doc, "span", "cell-sub", d.hint));
        return tableRow(
          doc,
          this.deliveryLabels,
          [
            timeNode(doc, d.at),
            element(doc, "span", "", d.account),
            element(doc, "span", "masked-contact", d.recipient),
            outcome,
            d.reply ? element(doc, "span", "server-reply", d.reply) : missing(doc, "—"),
            tookWords(d.duration_ms),
          ],
          ["", "", "", "", "", "num"],
        );
      }),
    );

    this.$("code-events-rows").replaceChildren(
      ...detail.events.map((e) =>
        tableRow(doc, this.eventLabels, [
          timeNode(doc, e.at),
          this.words.kind.get(e.kind) ?? e.kind,
          badge(doc, this.words.result.get(e.result) ?? e.result, RESULT_TONES[e.result]),
          element(doc, "span", "", e.operator),
          element(doc, "span", "cell-detail", localTimes(e.detail)),
        ]),
      ),
    );
  }
}

// The tabs: arrow keys, Home and End move between them and show the tab they land on.
class Tabs {
  constructor(doc, onSelect) {
    this.doc = doc;
    this.onSelect = onSelect;
    this.tabs = [...doc.querySelectorAll("#screen-activity [role='tab']")];
  }

  mount() {
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.select(tab.dataset.tab, true));
      tab.addEventListener("keydown", (event) => {
        const at = this.tabs.indexOf(tab);
        const last = this.tabs.length - 1;
        const to = {
          ArrowRight: at === last ? 0 : at + 1,
          ArrowLeft: at === 0 ? last : at - 1,
          Home: 0,
          End: last,
        }[event.key];
        if (to === undefined) return;
        event.preventDefault();
        this.select(this.tabs[to].dataset.tab, true);
      });
    }
  }

  select(name, focus) {
    for (const tab of this.tabs) {
      const chosen = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(chosen));
      tab.tabIndex = chosen ? 0 : -1;
      this.doc.getElementById(tab.getAttribute("aria-controls")).hidden = !chosen;
      if (chosen && focus) tab.focus();
    }
    this.onSelect(name);
  }
}

export class ActivityScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.tab = "codes";
    const $ = (id) => doc.getElementById(id);
    const words = {
      state: wordsOf($("codes-state")),
      kind: wordsOf($("audit-kind")),
      result: wordsOf($("audit-result")),
    };
    this.dialog = new CodeDialog(doc, app, words);
    const open = (codeId, opener) => this.dialog.open(codeId, opener);
    this.lists = {
      codes: new FilteredList(doc, app, {
        prefix: "codes",
        list: "activity_codes",
        export: "activity_export_codes",
        choices: ["state", "channel"],
        noun: ["code", "codes"],
        row: codeRow,
        words,
        open,
      }),
      audit: new FilteredList(doc, app, {
        prefix: "audit",
        list: "activity_audit",
        export: "activity_export_audit",
        choices: ["kind", "result", "channel"],
        noun: ["event", "events"],
        row: auditRow,
        words,
        open,
      }),
    };
    this.tabs = new Tabs(doc, (name) => {
      this.tab = name;
      this.lists[name].load();
    });
  }

  mount() {
    for (const list of Object.values(this.lists)) list.mount();
    this.dialog.mount();
    this.tabs.mount();
  }

  show() {
    this.doc.getElementById("activity-title").focus();
    // Fresh rows each time the screen is opened: codes went out since it was last shown.
    this.lists[this.tab].load();
  }

  hide() {
    this.dialog.close();
  }
}
