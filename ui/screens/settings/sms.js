// Settings, SMS accounts (Twilio or console, write-only token, test SMS).

export class SmsSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  // The panel became visible.
  show() {}
}
