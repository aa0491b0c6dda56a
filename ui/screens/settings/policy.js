// Settings, the one-time code policy and office settings, each with its allowed range.

export class PolicySettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  // The panel became visible.
  show() {}
}
