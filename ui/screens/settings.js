// The Settings screen (admin only): one tab per subject, each panel a module of its own in
// screens/settings/. Arrow keys move between tabs, as in any tab strip.

import { DataSettings } from "./settings/data.js";
import { MailSettings } from "./settings/mail.js";
import { MessageSettings } from "./settings/messages.js";
import { OperatorSettings } from "./settings/operators.js";
import { PassphraseSettings } from "./settings/passphrase.js";
import { PolicySettings } from "./settings/policy.js";
import { SmsSettings } from "./settings/sms.js";

export class SettingsScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.panels = new Map([
      ["mail", new MailSettings(doc, app)],
      ["sms", new SmsSettings(doc, app)],
      ["messages", new MessageSettings(doc, app)],
      ["policy", new PolicySettings(doc, app)],
      ["operators", new OperatorSettings(doc, app)],
      ["data", new DataSettings(doc, app)],
      ["passphrase", new PassphraseSettings(doc, app)],
    ]);
    this.current = "mail";
  }

  tabs() {
    return [...this.doc.querySelectorAll("#screen-settings [role='tab']")];
  }

  mount() {
    for (const panel of this.panels.values()) panel.mount();
    for (const tab of this.tabs()) {
      tab.addEventListener("click", () => this.select(tab.id.replace("settings-tab-", ""), true));
      tab.addEventListener("keydown", (event) => this.keyOnTab(event));
    }
  }

  keyOnTab(event) {
    const tabs = this.tabs();
    const at = tabs.indexOf(event.currentTarget);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
    this.select(next.id.replace("settings-tab-", ""), true);
  }

  // A panel loads when it comes into view, not again when its tab is chosen while it is
  // already shown: two loads would draw its lists twice, replacing a row under the pointer.
  select(name, focusTab, cameIntoView = false) {
    if (!this.panels.has(name)) return;
    const shownAlready = !cameIntoView && name === this.current;
    this.current = name;
    for (const tab of this.tabs()) {
      const on = tab.id === `settings-tab-${name}`;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focusTab) tab.focus();
    }
    for (const key of this.panels.keys()) {
      this.doc.getElementById(`settings-panel-${key}`).hidden = key !== name;
    }
    if (!shownAlready) this.panels.get(name).show();
  }

  show() {
    this.doc.getElementById("settings-title").focus();
    this.select(this.current, false, true);
  }

  hide() {}
}
