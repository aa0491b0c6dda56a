// The Customers screen (admin only): customer records: list with search, add and edit, CSV import and export.

export class CustomersScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
  }

  mount() {}

  show() {
    this.doc.getElementById("customers-title").focus();
  }

  hide() {}
}
