// Settings, the email and SMS text with a live preview.

export class MessageSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  // The panel became visible.
  show() {}
}
