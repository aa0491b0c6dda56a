// Settings, mail accounts (presets, write-only passwords, Microsoft sign-in, test mail).

export class MailSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  // The panel became visible.
  show() {}
}
