// The Settings screen (admin only): mail and SMS accounts, policy, the message templates, operators, passphrase, backups.

export class SettingsScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  show() {
    this.doc.getElementById("settings-title").focus();
  }

  hide() {}
}
