// Settings, mail accounts: the list (default, "password set", "signed in"), adding one from
// a kind's preset, the password into the keyring (write-only: the page only ever learns
// "password set"), Microsoft sign-in with the device code shown large, and "Send test mail"
// with its per-step report.

import { call, channel } from "../../ipc.js";
import { appNow, syncWithApp } from "../../clock.js";
import { element, minutesSeconds } from "../../format.js";
import { PanelTools, rowButton } from "./panel-tools.js";
import { clearReport, showReport } from "./test-report.js";

const KIND_WORDS = {
  gmail: "Gmail",
  microsoft365: "Microsoft 365",
  smtp: "SMTP server",
  outbox: "Local outbox",
  console: "Console (development)",
};

// Field names in the app's errors → the form's controls.
const FORM_FIELDS = {
  name: "mail-name",
  kind: "mail-kind",
  host: "mail-host",
  port: "mail-port",
  security: "mail-security",
  username: "mail-username",
  from_address: "mail-from-address",
  from_name: "mail-from-name",
  extra_ca_pem: "mail-ca",
  outbox_dir: "mail-folder",
  oauth_tenant: "mail-tenant",
  oauth_client_id: "mail-client-id",
  oauth_authority: "mail-authority",
  password: "mail-password",
};

export class MailSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.tools = new PanelTools(doc, app, "settings-panel-mail", FORM_FIELDS);
    this.settings = null;
    this.testing = null;
    this.signingIn = null;
    this.timer = undefined;
  }

  $(id) {
    return this.doc.getElementById(id);
  }

  mount() {
    const $ = (id) => this.$(id);
    $("mail-add-open").addEventListener("click", () => this.openForm());
    $("mail-add-cancel").addEventListener("click", () => this.closeForm());
    $("mail-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    for (const radio of this.doc.querySelectorAll("input[name='mail-kind']")) {
      radio.addEventListener("change", () => this.kindChosen(radio.value));
    }
    for (const radio of this.doc.querySelectorAll("input[name='mail-auth']")) {
      radio.addEventListener("change", () => this.showFor());
    }
    $("mail-ca-file").addEventListener("change", (event) => this.readCa(event.target));
    $("mail-accounts").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this.act(button.dataset.action, button.dataset.name);
    });

    $("mail-password-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.savePassword();
    });
    $("mail-password-cancel").addEventListener("click", () => $("mail-password-dialog").close());
    $("mail-password-dialog").addEventListener("close", () => {
      $("mail-password-new").value = "";
    });

    $("mail-test-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendTest();
    });
    $("mail-test-close").addEventListener("click", () => $("mail-test-dialog").close());

    $("mail-signin-copy").addEventListener("click", () => this.copyCode());
    $("mail-signin-cancel").addEventListener("click", () => this.cancelSignIn());
    $("mail-signin-close").addEventListener("click", () => $("mail-signin-dialog").close());
    // Esc on the sign-in dialog is Cancel: the wait stops at once.
    $("mail-signin-dialog").addEventListener("cancel", (event) => {
      if (this.signingIn) {
        event.preventDefault();
        this.cancelSignIn();
      }
    });
    $("mail-signin-dialog").addEventListener("close", () => {
      clearInterval(this.timer);
      this.timer = undefined;
      if (this.signingIn) this.cancelSignIn();
    });

    $("mail-remove-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.remove();
    });
    $("mail-remove-cancel").addEventListener("click", () => $("mail-remove-dialog").close());

    this.tools.closeDialogsWhenHidden();
    this.kindChosen("gmail");
  }

  // The panel became visible.
  async show() {
    await this.load();
  }

  async load() {
    try {
      this.render(await call("mail_accounts"));
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  showError(message) {
    this.$("mail-error-message").textContent = message;
    this.$("mail-error").hidden = !message;
  }

  say(message) {
    this.$("mail-status").textContent = message;
  }

  account(name) {
    return this.settings?.accounts.find((a) => a.name === name) ?? null;
  }

  render(settings) {
    this.settings = settings;
    this.showError(settings.keyring_problem ?? "");
    this.$("mail-authority-default").textContent = settings.default_authority;
    this.$("mail-accounts").replaceChildren(...settings.accounts.map((a) => this.row(a)));
    this.showPreset();
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
    const from = a.from_name ? `${a.from_name} <${a.from_address}>` : a.from_address;
    where.append(element(doc, "span", "account-from", `from ${from}`));
    if (a.username) where.append(element(doc, "span", "account-from", `user ${a.username}`));
    if (a.has_extra_ca) where.append(element(doc, "span", "account-from", "with the office's CA certificate"));

    const signIn = doc.createElement("td");
    signIn.append(this.credentialBadge(a));

    const cell = doc.createElement("td");
    const actions = element(doc, "div", "row-actions");
    cell.append(actions);
    if (!a.is_default) actions.append(rowButton(doc, "default", "Make default", a.name));
    if (a.credential === "password") {
      actions.append(rowButton(doc, "password", a.password_set ? "Replace password" : "Set password", a.name, !a.password_set));
    }
    if (a.credential === "microsoft") {
      actions.append(
        a.signed_in
          ? rowButton(doc, "sign-out", "Sign out", a.name)
          : rowButton(doc, "sign-in", "Sign in", a.name, true),
      );
    }
    actions.append(rowButton(doc, "test", "Send test mail", a.name));
    if (!a.is_default) actions.append(rowButton(doc, "remove", "Remove", a.name));
    tr.append(head, where, signIn, cell);
    return tr;
  }

  credentialBadge(a) {
    const doc = this.doc;
    const [text, tone] = {
      password: a.password_set ? ["Password set", "ok"] : ["Password not set", "warn"],
      microsoft: a.signed_in ? ["Signed in", "ok"] : ["Not signed in", "warn"],
      none: ["Nothing to sign in to", ""],
    }[a.credential] ?? ["", ""];
    const b = element(doc, "span", "badge credential", text);
    b.dataset.credential = a.credential;
    if (tone) b.dataset.tone = tone;
    return b;
  }

  // After the list is drawn again, the focus goes back where it was, or to the row.
  refocus(action, name) {
    const row = [...this.$("mail-accounts").rows].find((r) => r.dataset.account === name);
    const target =
      row?.querySelector(`button[data-action="${action}"]`) ??
      row?.querySelector("button[data-action]") ??
      this.$("mail-add-open");
    target.focus();
  }

  act(action, name) {
    switch (action) {
      case "default":
        this.makeDefault(name);
        break;
      case "password":
        this.openPassword(name);
        break;
      case "sign-in":
        this.signIn(name);
        break;
      case "sign-out":
        this.signOut(name);
        break;
      case "test":
        this.openTest(name);
        break;
      case "remove":
        this.openRemove(name);
        break;
      default:
    }
  }

  async makeDefault(name) {
    try {
      this.render(await call("mail_account_set_default", { name }));
      this.say(`“${name}” is now the default: every code goes out through it.`);
      // The desk's banner and status line follow at once.
      await this.app.refreshStatus();
      this.refocus("test", name);
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  // ---- Adding an account ----

  openForm() {
    this.$("mail-add").hidden = false;
    this.$("mail-add-open").setAttribute("aria-expanded", "true");
    this.showPreset();
    this.doc.querySelector("input[name='mail-kind']:checked")?.focus();
  }

  closeForm() {
    const form = this.$("mail-form");
    form.reset();
    this.tools.clearErrors(form);
    this.$("mail-form-error").textContent = "";
    this.kindChosen("gmail");
    this.$("mail-add").hidden = true;
    this.$("mail-add-open").setAttribute("aria-expanded", "false");
    this.$("mail-add-open").focus();
  }

  get kind() {
    return this.doc.querySelector("input[name='mail-kind']:checked")?.value ?? "gmail";
  }

  get auth() {
    if (this.kind === "gmail") return "password";
    if (!["microsoft365", "smtp"].includes(this.kind)) return "none";
    return this.doc.querySelector("input[name='mail-auth']:checked")?.value ?? "password";
  }

  kindChosen(kind) {
    const radio = this.doc.querySelector(`input[name='mail-kind'][value='${kind}']`);
    if (radio) radio.checked = true;
    // Microsoft 365 signs in with Microsoft by default (passwords go away in December
    // 2026); any other server with a password.
    const auth = kind === "microsoft365" ? "microsoft" : "password";
    const authRadio = this.doc.querySelector(`input[name='mail-auth'][value='${auth}']`);
    if (authRadio) authRadio.checked = true;
    const gmail = kind === "gmail";
    this.$("mail-password-label").textContent = gmail ? "App password" : "Password";
    this.$("mail-password-hint").textContent = gmail
      ? "Gmail needs an app password, not the account's own: turn on 2-Step Verification, then create one under Google Account → Security → App passwords. It is stored in the keyring when you save and never shown again."
      : "Stored in the keyring when you save, and never shown again. You can also set it later from the list.";
    this.showFor();
  }

  showFor() {
    const kind = this.kind;
    const auth = this.auth;
    for (const el of this.$("mail-form").querySelectorAll("[data-kinds]")) {
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
    }
    for (const el of this.$("mail-form").querySelectorAll("[data-auth]")) {
      el.hidden = el.dataset.auth !== auth;
    }
    this.showPreset();
  }

  showPreset() {
    const preset = this.settings?.presets.find((p) => p.kind === this.kind);
    const note = this.$("mail-preset");
    note.textContent = preset
      ? `${KIND_WORDS[preset.kind]} sends through ${preset.host}, port ${preset.port}, with ${preset.security.toUpperCase()}: filled in for you.`
      : "";
  }

  async readCa(input) {
    const file = input.files?.[0];
    const slot = this.$("mail-ca-error");
    slot.textContent = "";
    if (!file) return;
    const max = this.settings?.max_ca_bytes ?? 65536;
    if (file.size > max) {
      slot.textContent = `“${file.name}” is larger than ${Math.round(max / 1024)} KiB; choose the certificate of the office's CA only.`;
      input.value = "";
      return;
    }
    try {
      this.$("mail-ca").value = (await file.text()).trim();
    } catch (error) {
      slot.textContent = `“${file.name}” could not be read: ${error.message ?? error}`;
    }
    input.value = "";
  }

  formValues() {
    const $ = (id) => this.$(id).value;
    const kind = this.kind;
    const auth = this.auth;
    const server = ["gmail", "microsoft365", "smtp"].includes(kind);
    const account = {
      name: $("mail-name"),
      kind,
      from_address: $("mail-from-address"),
      from_name: $("mail-from-name"),
      username: server ? $("mail-username") : "",
      host: kind === "smtp" ? $("mail-host") : "",
      port: kind === "smtp" ? $("mail-port") : "",
      security: kind === "smtp" ? $("mail-security") : "",
      extra_ca_pem: kind === "smtp" ? $("mail-ca") : "",
      outbox_dir: kind === "outbox" ? $("mail-folder") : "",
      oauth_tenant: auth === "microsoft" ? $("mail-tenant") : "",
      oauth_client_id: auth === "microsoft" ? $("mail-client-id") : "",
      oauth_authority: auth === "microsoft" ? $("mail-authority") : "",
    };
    const password = auth === "password" ? this.$("mail-password").value : "";
    return { account, password: password === "" ? null : password };
  }

  async add() {
    const form = this.$("mail-form");
    const formError = this.$("mail-form-error");
    this.tools.clearErrors(form);
    formError.textContent = "";
    const { account, password } = this.formValues();
    try {
      const settings = await this.tools.busy(this.$("mail-add-save"), "Saving…", () =>
        call("mail_account_add", { account, password }),
      );
      this.$("mail-password").value = "";
      this.closeForm();
      this.render(settings);
      const added = this.account(account.name.trim());
      this.say(
        added?.credential === "microsoft"
          ? `Added “${added.name}”. Sign it in with Microsoft, then send a test mail.`
          : `Added “${account.name.trim()}”. Send a test mail, then make it the default to send codes through it.`,
      );
      this.refocus(added?.credential === "microsoft" ? "sign-in" : "test", account.name.trim());
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      const control = this.tools.showFieldErrors(error, formError);
      if (control?.closest("details")) control.closest("details").open = true;
      (control ?? this.$("mail-add-save")).focus();
    }
  }

  // ---- Password ----

  openPassword(name) {
    const a = this.account(name);
    if (!a) return;
    this.passwordFor = name;
    const gmail = a.kind === "gmail";
    this.$("mail-password-title").textContent = a.password_set ? "Replace the password" : "Set the password";
    this.$("mail-password-for").textContent =
      `For “${a.name}” (${a.destination}${a.username ? `, user ${a.username}` : ""}).` +
      (gmail ? " Gmail needs an app password, not the account's own." : "");
    this.tools.clearErrors(this.$("mail-password-form"));
    this.$("mail-password-new").value = "";
    this.$("mail-password-dialog").showModal();
    this.$("mail-password-new").focus();
  }

  async savePassword() {
    const input = this.$("mail-password-new");
    const slot = this.$("mail-password-new-error");
    this.tools.clearErrors(this.$("mail-password-form"));
    const name = this.passwordFor;
    try {
      const settings = await this.tools.busy(this.$("mail-password-save"), "Saving…", () =>
        call("mail_account_set_password", { name, password: input.value }),
      );
      input.value = "";
      this.$("mail-password-dialog").close();
      this.render(settings);
      this.say(`Password for “${name}” stored in the keyring.`);
      this.refocus("test", name);
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      slot.textContent = error.message;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  // ---- Test mail ----

  openTest(name) {
    const a = this.account(name);
    if (!a) return;
    this.testing = name;
    this.$("mail-test-for").textContent = `Through “${a.name}”: ${a.destination}.`;
    this.$("mail-test-to").value = a.from_address;
    this.$("mail-test-state").textContent = "";
    this.tools.clearErrors(this.$("mail-test-form"));
    clearReport(this.$("mail-test-steps"), this.$("mail-test-hint"));
    this.$("mail-test-dialog").showModal();
    this.$("mail-test-send").focus();
  }

  async sendTest() {
    const $ = (id) => this.$(id);
    const state = $("mail-test-state");
    this.tools.clearErrors($("mail-test-form"));
    clearReport($("mail-test-steps"), $("mail-test-hint"));
    $("mail-test-dialog").dataset.result = "";
    state.textContent = "Sending the test mail…";
    try {
      const outcome = await this.tools.busy($("mail-test-send"), "Sending…", () =>
        call("mail_test", { name: this.testing, to: $("mail-test-to").value }),
      );
      const summary = showReport(this.doc, $("mail-test-steps"), $("mail-test-hint"), outcome);
      state.textContent = outcome.ok ? `Test mail sent. ${summary}` : `The test mail was not sent. ${summary}`;
      $("mail-test-dialog").dataset.result = outcome.ok ? "ok" : "failed";
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      state.textContent = "";
      const control = this.tools.showFieldErrors(error, state);
      control?.focus();
    }
  }

  // ---- Microsoft sign-in ----

  async signIn(name) {
    const $ = (id) => this.$(id);
    const a = this.account(name);
    if (!a) return;
    this.signingIn = name;
    $("mail-signin-for").textContent = `For “${a.name}”, sending as ${a.username || a.from_address}.`;
    $("mail-signin-steps").hidden = true;
    $("mail-signin-error").textContent = "";
    $("mail-signin-state").textContent = "Asking Microsoft for a sign-in code…";
    $("mail-signin-cancel").hidden = false;
    $("mail-signin-close").hidden = true;
    $("mail-signin-dialog").dataset.state = "asking";
    $("mail-signin-dialog").showModal();
    $("mail-signin-cancel").focus();
    const codes = channel((code) => this.showCode(code));
    try {
      const settings = await call("mail_sign_in", { name, onCode: codes });
      this.signingIn = null;
      this.render(settings);
      this.endSignIn("signed-in", `Signed in. “${name}” now sends with Microsoft 365; the sign-in is kept in the keyring.`);
      this.say(`“${name}” is signed in to Microsoft.`);
    } catch (error) {
      this.signingIn = null;
      if (this.tools.lockedOut(error)) return;
      if (error.kind === "sign_in_cancelled") {
        $("mail-signin-dialog").close();
        this.say(`Sign-in for “${name}” cancelled; nothing was stored.`);
        this.refocus("sign-in", name);
        return;
      }
      this.endSignIn("failed", "");
      $("mail-signin-error").textContent = error.message;
    }
  }

  showCode(code) {
    const $ = (id) => this.$(id);
    syncWithApp(code.now);
    this.code = code;
    $("mail-signin-uri").textContent = code.verification_uri;
    $("mail-signin-code").textContent = code.user_code;
    $("mail-signin-steps").hidden = false;
    $("mail-signin-state").textContent = "Waiting for the sign-in… This closes by itself once it is approved.";
    $("mail-signin-dialog").dataset.state = "waiting";
    $("mail-signin-copy").textContent = "Copy code";
    clearInterval(this.timer);
    this.tick();
    this.timer = setInterval(() => this.tick(), 500);
  }

  tick() {
    const left = (this.code?.expires_at ?? 0) - appNow();
    this.$("mail-signin-countdown").textContent = minutesSeconds(left);
    this.$("mail-signin-expiry").dataset.state = left < 60_000 ? "low" : "";
  }

  endSignIn(state, message) {
    const $ = (id) => this.$(id);
    clearInterval(this.timer);
    this.timer = undefined;
    $("mail-signin-dialog").dataset.state = state;
    $("mail-signin-steps").hidden = true;
    $("mail-signin-state").textContent = message;
    $("mail-signin-cancel").hidden = true;
    $("mail-signin-close").hidden = false;
    $("mail-signin-close").focus();
  }

  async copyCode() {
    const code = this.code?.user_code;
    const button = this.$("mail-signin-copy");
    if (!code) return;
    try {
      await navigator.clipboard.writeText(code);
      button.textContent = "Copied";
    } catch {
      // No clipboard access: select the code, so Ctrl+C copies it.
      const range = this.doc.createRange();
      range.selectNodeContents(this.$("mail-signin-code"));
      const selection = this.doc.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
  }

  async cancelSignIn() {
    const name = this.signingIn;
    if (!name) {
      this.$("mail-signin-dialog").close();
      return;
    }
    this.$("mail-signin-state").textContent = "Cancelling…";
    try {
      await call("mail_sign_in_cancel", { name });
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.$("mail-signin-error").textContent = error.message;
    }
  }

  async signOut(name) {
    try {
      this.render(await call("mail_sign_out", { name }));
      this.say(`“${name}” is signed out of Microsoft; it sends nothing until it is signed in again.`);
      this.refocus("sign-in", name);
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  // ---- Removing ----

  openRemove(name) {
    const a = this.account(name);
    if (!a) return;
    this.removing = name;
    const secret = { password: " Its password is deleted from the keyring.", microsoft: " Its Microsoft sign-in is deleted from the keyring." }[a.credential] ?? "";
    this.$("mail-remove-what").textContent = `“${a.name}” (${a.destination}) goes from the list.${secret} Past deliveries stay in the activity log.`;
    this.$("mail-remove-error").textContent = "";
    this.$("mail-remove-dialog").showModal();
    this.$("mail-remove-cancel").focus();
  }

  async remove() {
    const name = this.removing;
    try {
      const settings = await this.tools.busy(this.$("mail-remove-confirm"), "Removing…", () =>
        call("mail_account_remove", { name }),
      );
      this.$("mail-remove-dialog").close();
      this.render(settings);
      this.say(`Removed “${name}”.`);
      this.$("mail-add-open").focus();
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.$("mail-remove-error").textContent = error.message;
    }
  }
}
