// Settings, the people who work the desk.
//
// The list is the core's (active first, then retired); every change is audited there. After
// each change the header's picker is loaded again, so it follows at once: a new name can be
// picked, a renamed clerk stays picked under the new name, a retired one is no longer picked.

import { call } from "../../ipc.js";
import { dateTime, element, sentence } from "../../format.js";

export class OperatorSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.operators = [];
    this.renaming = null;
  }

  mount() {
    const $ = this.$;
    $("operator-add-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    $("operators-rows").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const id = Number(button.closest("tr").dataset.operatorId);
      const operator = this.operators.find((o) => o.id === id);
      if (operator) this.act(button.dataset.action, operator);
    });
    $("operator-rename-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.rename();
    });
    $("operator-rename-cancel").addEventListener("click", () => $("operator-rename-dialog").close());
  }

  // The panel became visible.
  async show() {
    await this.load();
  }

  async load() {
    try {
      // The same list the header's picker reads; only its changes are admin commands.
      this.operators = await call("list_operators");
    } catch (error) {
      this.say(sentence(error.message));
      return;
    }
    this.render();
  }

  say(text) {
    this.$("operators-status").textContent = text;
  }

  render() {
    const doc = this.doc;
    const template = this.$("operator-row-template").content.firstElementChild;
    const rows = this.operators.map((operator) => {
      const row = template.cloneNode(true);
      row.dataset.operatorId = String(operator.id);
      row.id = `operator-row-${operator.id}`;
      const name = row.querySelector(".operator-name");
      name.textContent = operator.name;
      if (operator.name === this.app.operator) {
        name.append(" ", element(doc, "span", "badge", "at the desk"));
      }
      const state = row.querySelector(".operator-state");
      state.textContent = operator.active ? "Active" : "Retired";
      state.dataset.tone = operator.active ? "ok" : "";
      row.querySelector(".operator-changed").textContent = dateTime(operator.updated_at);
      for (const button of row.querySelectorAll("button[data-action]")) {
        const action = button.dataset.action;
        button.hidden = (action === "retire" && !operator.active) || (action === "reactivate" && operator.active);
        button.setAttribute("aria-label", `${button.textContent} ${operator.name}`);
      }
      return row;
    });
    this.$("operators-rows").replaceChildren(...rows);
    this.$("operators-empty").hidden = rows.length > 0;
    this.$("operators-table").hidden = rows.length === 0;
  }

  // The header's picker reads the list again, keeping whoever is picked (by the new name
  // after a rename).
  async followInPicker(keep) {
    await this.app.loadOperators(keep ?? this.app.operator ?? "");
  }

  async add() {
    const $ = this.$;
    const input = $("operator-add-name");
    const error = $("operator-add-name-error");
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    $("operator-add").disabled = true;
    try {
      const added = await this.app.adminCall("add_operator", { name: input.value });
      input.value = "";
      this.say(`${added.name} was added and can now be picked at the top right.`);
      await this.followInPicker();
      await this.load();
    } catch (e) {
      if (e.kind !== "admin_locked") {
        error.textContent = sentence(e.fields?.[0]?.message ?? e.message);
        input.setAttribute("aria-invalid", "true");
      }
    }
    $("operator-add").disabled = false;
    input.focus();
  }

  act(action, operator) {
    if (action === "rename") {
      this.openRename(operator);
    } else {
      this.change(action, operator);
    }
  }

  async change(action, operator) {
    const command = action === "retire" ? "retire_operator" : "reactivate_operator";
    let changed;
    try {
      changed = await this.app.adminCall(command, { operatorId: operator.id });
    } catch (e) {
      if (e.kind !== "admin_locked") this.say(sentence(e.message));
      return;
    }
    const name = changed.operator.name;
    if (action === "retire" && changed.at_desk) {
      // The pick is cleared in the app already; the page forgets it too.
      await this.app.chooseOperator("");
      await this.followInPicker("");
      this.say(`${name} is retired. ${name} was picked at the desk, so nobody is picked now: whoever works the desk chooses their name at the top right before sending codes.`);
    } else {
      await this.followInPicker();
      this.say(action === "retire"
        ? `${name} is retired: the name stays in the activity log but can no longer be picked.`
        : `${name} is active again and can be picked at the top right.`);
    }
    await this.load();
    // Focus stays on the row, on the button that undoes what was just done.
    const undo = action === "retire" ? "reactivate" : "retire";
    this.doc.querySelector(`#operator-row-${operator.id} button[data-action="${undo}"]`)?.focus();
  }

  openRename(operator) {
    const $ = this.$;
    this.renaming = operator;
    $("operator-rename-old").textContent = operator.name;
    const input = $("operator-rename-name");
    input.value = operator.name;
    input.removeAttribute("aria-invalid");
    $("operator-rename-name-error").textContent = "";
    $("operator-rename-dialog").showModal();
    input.select();
  }

  async rename() {
    const $ = this.$;
    const operator = this.renaming;
    if (!operator) return;
    const input = $("operator-rename-name");
    const error = $("operator-rename-name-error");
    error.textContent = "";
    $("operator-rename-save").disabled = true;
    try {
      const changed = await this.app.adminCall("rename_operator", { operatorId: operator.id, name: input.value });
      $("operator-rename-dialog").close();
      await this.followInPicker(changed.at_desk ? changed.operator.name : undefined);
      this.say(changed.operator.name === operator.name
        ? `${operator.name} keeps the same name.`
        : `${operator.name} is now called ${changed.operator.name}. Past events keep the old name.`);
      await this.load();
      this.doc.querySelector(`#operator-row-${operator.id} button[data-action="rename"]`)?.focus();
    } catch (e) {
      if (e.kind === "admin_locked") {
        $("operator-rename-dialog").close();
      } else {
        error.textContent = sentence(e.fields?.[0]?.message ?? e.message);
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
    $("operator-rename-save").disabled = false;
  }
}
