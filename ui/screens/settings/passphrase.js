// Settings, changing the admin passphrase, and how the admin area locks itself.
//
// The passphrases typed here go to the app and are never read back; the fields are emptied
// as soon as the change is made.

import { sentence, spokenDuration } from "../../format.js";
import { SettingField } from "./policy.js";

const IDLE_SETTING = "admin_idle_lock_minutes";

export class PassphraseSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
  }

  fields() {
    return {
      current: this.$("passphrase-current"),
      new: this.$("passphrase-new"),
      confirm: this.$("passphrase-confirm"),
    };
  }

  mount() {
    this.$("passphrase-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.change();
    });
  }

  // The panel became visible.
  async show() {
    const error = this.$("passphrase-panel-error");
    error.textContent = "";
    try {
      const [rules, policy] = await Promise.all([
        this.app.adminCall("admin_passphrase_rules"),
        this.app.adminCall("policy_settings"),
      ]);
      this.showRules(rules);
      const idle = policy.settings.find((s) => s.key === IDLE_SETTING);
      const save = (key, value) => this.app.adminCall("set_policy_setting", { key, value });
      this.$("passphrase-idle").replaceChildren(...(idle ? [new SettingField(this.doc, idle, save).form] : []));
    } catch (e) {
      if (e.kind !== "admin_locked") error.textContent = sentence(e.message);
    }
  }

  showRules(rules) {
    this.$("passphrase-length").textContent = `${rules.min_chars} to ${rules.max_chars} characters`;
    this.$("passphrase-lockout").textContent =
      `${rules.lock_after_failures} wrong passphrases in a row lock the admin area for ${spokenDuration(rules.lock_first_seconds)}; each further wrong one doubles the lock, up to ${spokenDuration(rules.lock_max_seconds)}. A wrong current passphrase in the form above counts too.`;
  }

  clearProblems() {
    for (const [name, input] of Object.entries(this.fields())) {
      input.removeAttribute("aria-invalid");
      this.$(`passphrase-${name}-error`).textContent = "";
    }
    this.$("passphrase-error").textContent = "";
    this.$("passphrase-done").textContent = "";
  }

  problem(name, message) {
    const input = this.fields()[name];
    this.$(`passphrase-${name}-error`).textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  async change() {
    const f = this.fields();
    this.clearProblems();
    if (f.new.value !== f.confirm.value) {
      this.problem("confirm", "The two new passphrases differ; type the same one twice.");
      return;
    }
    const button = this.$("passphrase-save");
    button.disabled = true;
    this.$("passphrase-done").textContent = "Checking…";
    try {
      await this.app.adminCall("change_admin_passphrase", {
        current: f.current.value,
        newPassphrase: f.new.value,
      });
      for (const input of Object.values(f)) input.value = "";
      this.$("passphrase-done").textContent = "The admin passphrase is changed. Use the new one from now on.";
    } catch (e) {
      this.$("passphrase-done").textContent = "";
      const field = e.fields?.[0];
      if (e.kind === "admin_locked") {
        // The gate takes over.
      } else if (e.kind === "admin_locked_out") {
        for (const input of Object.values(f)) input.value = "";
        this.app.adminLocked({ message: "Too many wrong current passphrases: the admin area is locked for now." });
      } else if (field && field.field in f) {
        this.problem(field.field, sentence(field.message));
      } else {
        this.$("passphrase-error").textContent = sentence(e.message);
      }
    }
    button.disabled = false;
  }
}
