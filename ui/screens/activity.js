// The Activity screen (admin only): every code sent and checked, and the audit trail (read-only).

export class ActivityScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  show() {
    this.doc.getElementById("activity-title").focus();
  }

  hide() {}
}
