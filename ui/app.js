// The frame around the screens: which screen is showing, who is at the desk, the banners,
// and the status line. Screens are ES modules of their own; this file only switches between
// them and tells them what changed.

import { call } from "./ipc.js";
import { appNow, syncWithApp } from "./clock.js";
import { clockTime, plural, sentence } from "./format.js";
import { ActivityScreen } from "./screens/activity.js";
import { CustomersScreen } from "./screens/customers.js";
import { DashboardScreen } from "./screens/dashboard.js";
import { Desk } from "./screens/desk.js";
import { SettingsScreen } from "./screens/settings.js";

const REMEMBERED_OPERATOR = "otp-desk.operator";
// How often an open admin screen asks whether the admin session is still unlocked (and says
// whether anyone touched the keyboard or mouse since, which keeps it unlocked).
const ADMIN_POLL_MS = 15_000;
// What the unlock gate says when the admin area closed without anyone pressing "Lock admin".
const IDLE_LOCK_NOTE =
  "The admin area locked itself because nobody used it for a while. Enter the admin passphrase to go on.";

function lockedOutText(until) {
  return `Too many wrong admin passphrases: the admin area is locked until ${clockTime(until)}. Even the right passphrase is refused until then.`;
}

export class App {
  constructor(doc) {
    this.doc = doc;
    this.status = null;
    this.operator = null;
    this.admin = { passphrase_set: false, unlocked: false };
    this.lastInputAt = 0;
    this.lastPollAt = 0;
    // Why the gate is showing, when it is not simply "this screen is for the admin".
    this.lockNote = null;
    this.screens = new Map();
    this.current = null;
    this.desk = new Desk(doc, this);
    this.screens.set("desk", this.desk);
    this.screens.set("customers", new CustomersScreen(doc, this));
    this.screens.set("activity", new ActivityScreen(doc, this));
    this.screens.set("dashboard", new DashboardScreen(doc, this));
    this.screens.set("settings", new SettingsScreen(doc, this));
  }

  $(id) {
    return this.doc.getElementById(id);
  }

  async start() {
    const doc = this.doc;
    // autofocus is not honoured by every webview once the page is already shown.
    this.$("search").focus();
    for (const screen of this.screens.values()) screen.mount();
    this.gateIntro = this.$("gate-intro").textContent;
    this.mountFrame();
    this.route();

    try {
      this.showStatus(await call("app_status"));
    } catch (error) {
      this.showStartupError(error);
      return;
    }
    await this.refreshAdmin();
    await this.loadOperators();
    doc.defaultView.addEventListener("hashchange", () => this.route());
    doc.defaultView.setInterval(() => this.pollAdmin(), ADMIN_POLL_MS);
  }

  mountFrame() {
    const doc = this.doc;
    this.$("operator").addEventListener("change", (event) => this.chooseOperator(event.target.value));
    this.$("open-outbox").addEventListener("click", () => this.openOutbox());
    this.$("load-sample").addEventListener("click", () => this.loadSample());
    this.$("setup-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.setUp();
    });
    this.$("gate-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.unlock();
    });
    this.$("admin-lock").addEventListener("click", () => this.lockAdmin());
    doc.addEventListener("keydown", (event) => this.keyAnywhere(event));
    for (const kind of ["keydown", "pointerdown", "wheel"]) {
      doc.addEventListener(kind, () => {
        this.lastInputAt = Date.now();
      }, { passive: true, capture: true });
    }
  }

  keyAnywhere(event) {
    // Ctrl+1…5 switch screens from anywhere, the same order as the navigation.
    if (event.ctrlKey && !event.altKey && !event.metaKey && /^[1-5]$/.test(event.key)) {
      const links = [...this.doc.querySelectorAll("[data-screen-link]")];
      const link = links[Number(event.key) - 1];
      if (link) {
        event.preventDefault();
        this.doc.defaultView.location.hash = link.getAttribute("href");
      }
      return;
    }
    // Esc starts over for the next customer, from anywhere on the desk, the card included.
    if (event.key === "Escape" && !event.defaultPrevented && this.current === "desk") {
      event.preventDefault();
      this.desk.startOver();
    }
  }

  route() {
    const wanted = this.doc.defaultView.location.hash.replace(/^#/, "") || "desk";
    const name = this.screens.has(wanted) ? wanted : "desk";
    const section = this.doc.querySelector(`[data-screen="${name}"]`);
    const gated = section?.hasAttribute("data-admin") && !this.admin.unlocked;
    const shown = gated ? "gate" : name;
    if (name === this.current && shown === this.shown) return;
    for (const s of this.doc.querySelectorAll("[data-screen]")) {
      s.hidden = gated || s.dataset.screen !== name;
    }
    this.$("admin-gate").hidden = !gated;
    for (const link of this.doc.querySelectorAll("[data-screen-link]")) {
      if (link.dataset.screenLink === name) {
        link.setAttribute("aria-current", "page");
      } else {
        link.removeAttribute("aria-current");
      }
    }
    const previous = this.current;
    const previousShown = this.shown;
    this.current = name;
    this.shown = shown;
    if (previous && previousShown !== "gate") this.screens.get(previous)?.hide?.();
    if (gated) {
      this.showGate();
    } else {
      this.screens.get(name).show();
    }
  }

  showGate() {
    const set = this.admin.passphrase_set;
    this.$("gate-form").hidden = !set;
    this.$("gate-not-set").hidden = set;
    this.$("gate-intro").hidden = !set;
    this.$("gate-intro").textContent = this.lockNote ?? this.gateIntro;
    const until = this.admin.locked_until;
    this.$("gate-error").textContent = until && until > appNow() ? lockedOutText(until) : "";
    this.$("gate-passphrase").value = "";
    if (set) this.$("gate-passphrase").focus();
  }

  showAdmin(status) {
    this.admin = status;
    this.$("admin-lock").hidden = !status.unlocked;
    this.$("setup-form").hidden = status.passphrase_set;
    this.$("setup-done").hidden = !status.passphrase_set;
    this.showWelcome();
    const hadGate = this.shown === "gate";
    const needsGate =
      this.current && this.current !== "desk" && !status.unlocked;
    if (hadGate !== needsGate) {
      // Force the router to lay the screen out again for the new state.
      this.shown = null;
      this.route();
    }
  }

  async refreshAdmin(active = false) {
    try {
      this.showAdmin(await call("admin_status", { active }));
    } catch (error) {
      console.error("the admin state could not be read", error);
    }
  }

  async pollAdmin() {
    if (!this.admin.unlocked) return;
    const active = this.lastInputAt > this.lastPollAt;
    this.lastPollAt = Date.now();
    try {
      const status = await call("admin_status", { active });
      if (!status.unlocked) this.lockNote = IDLE_LOCK_NOTE;
      this.showAdmin(status);
    } catch (error) {
      console.error("the admin state could not be read", error);
    }
  }

  // A screen's command answered "admin_locked": the session ended under it. `reason` (that
  // error, or a note of the screen's own, e.g. after a restore) is what the gate then says.
  adminLocked(reason) {
    this.lockNote = sentence(reason?.message) || IDLE_LOCK_NOTE;
    this.refreshAdmin();
  }

  // For admin screens: a command whose "admin_locked" answer also brings up the gate.
  async adminCall(command, args) {
    try {
      return await call(command, args);
    } catch (error) {
      if (error?.kind === "admin_locked") this.adminLocked(error);
      throw error;
    }
  }

  async unlock() {
    const input = this.$("gate-passphrase");
    const error = this.$("gate-error");
    const button = this.$("gate-unlock");
    error.textContent = "";
    button.disabled = true;
    try {
      const status = await call("admin_unlock", { passphrase: input.value });
      input.value = "";
      this.lockNote = null;
      this.showAdmin(status);
    } catch (e) {
      error.textContent = e.kind === "admin_locked_out" && e.at ? lockedOutText(e.at) : sentence(e.message);
      input.select();
      input.focus();
    }
    button.disabled = false;
  }

  async lockAdmin() {
    this.lockNote = null;
    try {
      this.showAdmin(await call("admin_lock"));
    } catch (error) {
      console.error("admin lock failed", error);
    }
  }

  async setUp() {
    const $ = (id) => this.$(id);
    const passphrase = $("setup-passphrase");
    const confirm = $("setup-confirm");
    const operator = $("setup-operator");
    for (const id of ["setup-passphrase-error", "setup-confirm-error", "setup-operator-error", "setup-error"]) {
      $(id).textContent = "";
    }
    for (const input of [passphrase, confirm, operator]) input.removeAttribute("aria-invalid");
    if (passphrase.value !== confirm.value) {
      $("setup-confirm-error").textContent = "The two passphrases differ; type the same one twice.";
      confirm.setAttribute("aria-invalid", "true");
      confirm.focus();
      return;
    }
    $("setup-submit").disabled = true;
    try {
      const done = await call("admin_set_up", {
        passphrase: passphrase.value,
        operator: operator.value,
      });
      passphrase.value = "";
      confirm.value = "";
      this.showAdmin(done.admin);
      await this.loadOperators(done.operator);
      $("load-sample").focus();
    } catch (error) {
      const problem = error.fields?.[0];
      const field = problem ? { passphrase, operator }[problem.field] ?? null : null;
      if (field) {
        $(`${field.id}-error`).textContent = problem.message;
        field.setAttribute("aria-invalid", "true");
        field.focus();
      } else {
        $("setup-error").textContent = error.message;
      }
    }
    $("setup-submit").disabled = false;
  }

  showStatus(status) {
    this.status = status;
    syncWithApp(status.now);
    const db = this.$("status-db");
    const path = this.doc.createElement("code");
    path.id = "status-db-path";
    path.textContent = status.database_path;
    db.replaceChildren("Database ", path);
    this.$("status-customers").textContent = plural(status.customers, "customer", "customers");
    this.$("status-mail").textContent = `Mail: ${status.mail.account}`;
    this.$("status-version").textContent =
      `Version ${status.version} · schema ${status.schema_version}`;
    this.$("banner-outbox").hidden = !(status.mail.local_only && status.mail.kind === "outbox");
    this.showWelcome();
    this.desk.refresh();
  }

  // The first-start panel stays until the passphrase is chosen and there are customers.
  showWelcome() {
    const customers = this.status?.customers ?? 0;
    const setUp = this.admin.passphrase_set || this.status?.admin_set_up;
    this.$("welcome").hidden = Boolean(setUp) && customers > 0;
    this.$("welcome-step-sample").hidden = customers > 0;
  }

  async refreshStatus() {
    try {
      this.showStatus(await call("app_status"));
    } catch (error) {
      this.showStartupError(error);
    }
  }

  showStartupError(error) {
    if (!String(error.kind).startsWith("database")) {
      this.$("startup-error-title").textContent = "OTP Desk could not start properly";
    }
    this.$("startup-error-message").textContent = error.message;
    this.$("startup-error").hidden = false;
    this.$("status-db").textContent = "Database unavailable";
    this.$("status").classList.add("status-error");
  }

  async loadOperators(choose) {
    const select = this.$("operator");
    let operators = [];
    try {
      operators = await call("list_operators");
    } catch (error) {
      console.error("operators could not be listed", error);
    }
    const keep = select.options[0];
    const options = operators
      .filter((o) => o.active)
      .map((o) => {
        const option = this.doc.createElement("option");
        option.value = o.name;
        option.textContent = o.name;
        return option;
      });
    select.replaceChildren(keep, ...options);
    const wanted =
      choose ?? this.status?.operator ?? this.doc.defaultView.localStorage.getItem(REMEMBERED_OPERATOR);
    if (wanted && options.some((o) => o.value === wanted)) {
      select.value = wanted;
      await this.chooseOperator(wanted);
    } else {
      select.value = "";
      this.operator = null;
      this.desk.refresh();
    }
  }

  async chooseOperator(name) {
    const storage = this.doc.defaultView.localStorage;
    if (!name) {
      this.operator = null;
      storage.removeItem(REMEMBERED_OPERATOR);
      this.desk.refresh();
      return;
    }
    try {
      this.operator = await call("choose_operator", { name });
      storage.setItem(REMEMBERED_OPERATOR, this.operator);
    } catch (error) {
      this.operator = null;
      this.$("operator").value = "";
      console.error("operator not accepted", error);
    }
    this.desk.refresh();
  }

  async openOutbox() {
    const note = this.$("outbox-where");
    try {
      const folder = await call("open_outbox_folder");
      note.textContent = `Opened ${folder}`;
    } catch (error) {
      note.textContent = error.message;
    }
    note.hidden = false;
  }

  async loadSample() {
    const line = this.$("welcome-status");
    const button = this.$("load-sample");
    button.disabled = true;
    line.textContent = "Loading sample customers…";
    try {
      const count = await call("load_sample_customers", { count: 25 });
      line.textContent = "";
      await this.refreshStatus();
      this.$("results-empty").textContent =
        `${plural(count, "sample customer", "sample customers")} loaded. Type a name, for example “smith”.`;
      this.$("search").focus();
    } catch (error) {
      line.textContent = error.message;
    }
    button.disabled = false;
  }
}
