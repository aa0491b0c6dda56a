// Settings, backups, restore, the database location and cleanup of old codes.

export class DataSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  // The panel became visible.
  show() {}
}
