// The Dashboard screen (admin only): codes per day, delivery success per account, the latest failures.

export class DashboardScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  show() {
    this.doc.getElementById("dashboard-title").focus();
  }

  hide() {}
}
