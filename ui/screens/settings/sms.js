// Settings, SMS accounts: the list (default, "auth token set"), adding a Twilio or console
// account, the auth token into the keyring (write-only), and "Send test SMS" with its
// per-step report. Whether the desk's SMS button works follows from this tab, so every
// change refreshes the app's status at once.

import { call } from "../../ipc.js";
import { element } from "../../format.js";
import { PanelTools, rowButton } from "./panel-tools.js";
import { clearReport, showReport } from "./test-report.js";

const KIND_WORDS = { twilio: "Twilio", console: "Console (development)" };

const FORM_FIELDS = {
  name: "sms-name",
  kind: "sms-kind",
  account_sid: "sms-account-sid",
  sender: "sms-sender",
  from_number: "sms-from-number",
  messaging_service_sid: "sms-service-sid",
  api_base: "sms-api-base",
  token: "sms-token",
};

export class SmsSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.tools = new PanelTools(doc, app, "settings-panel-sms", FORM_FIELDS);
    this.settings = null;
  }

  $(id) {
    return this.doc.getElementById(id);
  }

  mount() {
    const $ = (id) => this.$(id);
    $("sms-add-open").addEventListener("click", () => this.openForm());
    $("sms-add-cancel").addEventListener("click", () => this.closeForm());
    $("sms-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    for (const radio of this.doc.querySelectorAll("input[name='sms-kind'], input[name='sms-sender']")) {
      radio.addEventListener("change", () => this.showFor());
    }
    $("sms-accounts").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this.act(button.dataset.action, button.dataset.name);
    });
    $("sms-token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveToken();
    });
    $("sms-token-cancel").addEventListener("click", () => $("sms-token-dialog").close());
    $("sms-token-dialog").addEventListener("close", () => {
      $("sms-token-new").value = "";
    });
    $("sms-test-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendTest();
    });
    $("sms-test-close").addEventListener("click", () => $("sms-test-dialog").close());
    $("sms-remove-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.remove();
    });
    $("sms-remove-cancel").addEventListener("click", () => $("sms-remove-dialog").close());
    this.tools.closeDialogsWhenHidden();
    this.showFor();
  }

  // The panel became visible.
  async show() {
    await this.load();
  }

  async load() {
    try {
      this.render(await call("sms_accounts"));
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  showError(message) {
    this.$("sms-error-message").textContent = message;
    this.$("sms-error").hidden = !message;
  }

  say(message) {
    this.$("sms-status").textContent = message;
  }

  account(name) {
    return this.settings?.accounts.find((a) => a.name === name) ?? null;
  }

  render(settings) {
    this.settings = settings;
    this.showError(settings.keyring_problem ?? "");
    this.$("sms-api-default").textContent = settings.default_api_base;
    this.$("sms-region").textContent = settings.default_region;
    const rows = settings.accounts.map((a) => this.row(a));
    this.$("sms-accounts").replaceChildren(...rows);
    this.$("sms-table-wrap").hidden = rows.length === 0;
    this.$("sms-none").hidden = rows.length > 0;
    const line = this.$("sms-availability");
    const a = settings.availability;
    line.dataset.tone = a.available ? "ok" : "warn";
    line.textContent = a.available
      ? `The desk sends codes by SMS through “${a.account}”.`
      : `The desk cannot send codes by SMS: ${a.reason ?? "SMS is not set up."}`;
  }

  row(a) {
    const doc = this.doc;
    const tr = doc.createElement("tr");
    tr.dataset.account = a.name;
    const head = doc.createElement("th");
    head.scope = "row";
    const title = element(doc, "span", "account-title");
    title.append(element(doc, "span", "account-name", a.name));
    if (a.is_default) {
      const b = element(doc, "span", "badge", "Default");
      b.dataset.tone = "ok";
      title.append(" ", b);
    }
    head.append(title, element(doc, "span", "account-kind", KIND_WORDS[a.kind] ?? a.kind));

    const where = doc.createElement("td");
    where.append(element(doc, "span", "account-destination", a.destination));
    if (a.kind === "twilio") {
      where.append(element(doc, "span", "account-from", `account ${a.account_sid}`));
      if (a.api_base !== this.settings.default_api_base) {
        where.append(element(doc, "span", "account-from", `API ${a.api_base}`));
      }
    }

    const token = doc.createElement("td");
    const [text, tone] = !a.needs_token
      ? ["Needs none", ""]
      : a.token_set
        ? ["Auth token set", "ok"]
        : ["Auth token not set", "warn"];
    const badge = element(doc, "span", "badge credential", text);
    if (tone) badge.dataset.tone = tone;
    token.append(badge);

    const cell = doc.createElement("td");
    const actions = element(doc, "div", "row-actions");
    cell.append(actions);
    if (!a.is_default) actions.append(rowButton(doc, "default", "Make default", a.name));
    if (a.needs_token) {
      actions.append(rowButton(doc, "token", a.token_set ? "Replace auth token" : "Set auth token", a.name, !a.token_set));
    }
    actions.append(rowButton(doc, "test", "Send test SMS", a.name));
    actions.append(rowButton(doc, "remove", "Remove", a.name));
    tr.append(head, where, token, cell);
    return tr;
  }

  refocus(action, name) {
    const row = [...this.$("sms-accounts").rows].find((r) => r.dataset.account === name);
    const target =
      row?.querySelector(`button[data-action="${action}"]`) ??
      row?.querySelector("button[data-action]") ??
      this.$("sms-add-open");
    target.focus();
  }

  act(action, name) {
    const actions = {
      default: () => this.makeDefault(name),
      token: () => this.openToken(name),
      test: () => this.openTest(name),
      remove: () => this.openRemove(name),
    };
    actions[action]?.();
  }

  async makeDefault(name) {
    try {
      this.render(await call("sms_account_set_default", { name }));
      this.say(`“${name}” is now the default: codes by SMS go out through it.`);
      await this.app.refreshStatus();
      this.refocus("test", name);
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  // ---- Adding ----

  get kind() {
    return this.doc.querySelector("input[name='sms-kind']:checked")?.value ?? "twilio";
  }

  get sender() {
    return this.doc.querySelector("input[name='sms-sender']:checked")?.value ?? "number";
  }

  showFor() {
    const form = this.$("sms-form");
    for (const el of form.querySelectorAll("[data-kinds]")) {
      el.hidden = !el.dataset.kinds.split(" ").includes(this.kind);
    }
    for (const el of form.querySelectorAll("[data-sender]")) {
      el.hidden = el.dataset.sender !== this.sender;
    }
  }

  openForm() {
    this.$("sms-add").hidden = false;
    this.$("sms-add-open").setAttribute("aria-expanded", "true");
    this.doc.querySelector("input[name='sms-kind']:checked")?.focus();
  }

  closeForm() {
    const form = this.$("sms-form");
    form.reset();
    this.tools.clearErrors(form);
    this.$("sms-form-error").textContent = "";
    this.showFor();
    this.$("sms-add").hidden = true;
    this.$("sms-add-open").setAttribute("aria-expanded", "false");
    this.$("sms-add-open").focus();
  }

  formValues() {
    const $ = (id) => this.$(id).value;
    const twilio = this.kind === "twilio";
    const account = {
      name: $("sms-name"),
      kind: this.kind,
      account_sid: twilio ? $("sms-account-sid") : "",
      from_number: twilio && this.sender === "number" ? $("sms-from-number") : "",
      messaging_service_sid: twilio && this.sender === "service" ? $("sms-service-sid") : "",
      api_base: twilio ? $("sms-api-base") : "",
    };
    const token = twilio ? this.$("sms-token").value : "";
    return { account, token: token === "" ? null : token };
  }

  async add() {
    const form = this.$("sms-form");
    const formError = this.$("sms-form-error");
    this.tools.clearErrors(form);
    formError.textContent = "";
    const { account, token } = this.formValues();
    try {
      const settings = await this.tools.busy(this.$("sms-add-save"), "Saving…", () =>
        call("sms_account_add", { account, token }),
      );
      this.$("sms-token").value = "";
      this.closeForm();
      this.render(settings);
      const name = account.name.trim();
      const added = this.account(name);
      this.say(
        added?.is_default
          ? `Added “${name}”; it is the default, so the desk can now send codes by SMS. Send a test SMS to check it.`
          : `Added “${name}”. Send a test SMS, then make it the default to send codes through it.`,
      );
      await this.app.refreshStatus();
      this.refocus(added?.needs_token && !added.token_set ? "token" : "test", name);
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      const control = this.tools.showFieldErrors(error, formError);
      if (control?.closest("details")) control.closest("details").open = true;
      (control ?? this.$("sms-add-save")).focus();
    }
  }

  // ---- Auth token ----

  openToken(name) {
    const a = this.account(name);
    if (!a) return;
    this.tokenFor = name;
    this.$("sms-token-title").textContent = a.token_set ? "Replace the auth token" : "Set the auth token";
    this.$("sms-token-for").textContent = `For “${a.name}” (Twilio account ${a.account_sid}).`;
    this.tools.clearErrors(this.$("sms-token-form"));
    this.$("sms-token-new").value = "";
    this.$("sms-token-dialog").showModal();
    this.$("sms-token-new").focus();
  }

  async saveToken() {
    const input = this.$("sms-token-new");
    this.tools.clearErrors(this.$("sms-token-form"));
    const name = this.tokenFor;
    try {
      const settings = await this.tools.busy(this.$("sms-token-save"), "Saving…", () =>
        call("sms_account_set_token", { name, token: input.value }),
      );
      input.value = "";
      this.$("sms-token-dialog").close();
      this.render(settings);
      this.say(`Auth token for “${name}” stored in the keyring.`);
      await this.app.refreshStatus();
      this.refocus("test", name);
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      this.$("sms-token-new-error").textContent = error.message;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  // ---- Test SMS ----

  openTest(name) {
    const a = this.account(name);
    if (!a) return;
    this.testing = name;
    this.$("sms-test-for").textContent = `Through “${a.name}”: ${a.destination}.`;
    this.$("sms-test-state").textContent = "";
    this.tools.clearErrors(this.$("sms-test-form"));
    clearReport(this.$("sms-test-steps"), this.$("sms-test-hint"));
    this.$("sms-test-dialog").dataset.result = "";
    this.$("sms-test-dialog").showModal();
    this.$("sms-test-to").focus();
  }

  async sendTest() {
    const $ = (id) => this.$(id);
    const state = $("sms-test-state");
    this.tools.clearErrors($("sms-test-form"));
    clearReport($("sms-test-steps"), $("sms-test-hint"));
    $("sms-test-dialog").dataset.result = "";
    state.textContent = "Sending the test SMS and waiting for its delivery status…";
    try {
      const outcome = await this.tools.busy($("sms-test-send"), "Sending…", () =>
        call("sms_test", { name: this.testing, to: $("sms-test-to").value }),
      );
      const summary = showReport(this.doc, $("sms-test-steps"), $("sms-test-hint"), outcome);
      state.textContent = outcome.ok ? `Test SMS sent. ${summary}` : `The test SMS did not get through. ${summary}`;
      $("sms-test-dialog").dataset.result = outcome.ok ? "ok" : "failed";
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      state.textContent = "";
      this.tools.showFieldErrors(error, state)?.focus();
    }
  }

  // ---- Removing ----

  openRemove(name) {
    const a = this.account(name);
    if (!a) return;
    this.removing = name;
    const others = this.settings.accounts.filter((x) => x.name !== name);
    const consequence = a.is_default
      ? others.length
        ? " It is the default: the desk cannot send codes by SMS until you make another account the default."
        : " It is the only SMS account: the desk cannot send codes by SMS until you add another."
      : "";
    const token = a.needs_token ? " Its auth token is deleted from the keyring." : "";
    this.$("sms-remove-what").textContent = `“${a.name}” (${a.destination}) goes from the list.${token}${consequence}`;
    this.$("sms-remove-error").textContent = "";
    this.$("sms-remove-dialog").showModal();
    this.$("sms-remove-cancel").focus();
  }

  async remove() {
    const name = this.removing;
    try {
      const settings = await this.tools.busy(this.$("sms-remove-confirm"), "Removing…", () =>
        call("sms_account_remove", { name }),
      );
      this.$("sms-remove-dialog").close();
      this.render(settings);
      this.say(`Removed “${name}”.`);
      await this.app.refreshStatus();
      this.$("sms-add-open").focus();
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.$("sms-remove-error").textContent = error.message;
    }
  }
}
