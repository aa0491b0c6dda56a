// What the mail, SMS and message-text panels share: errors put under the field they are
// about, a busy button, dialogs that close when the panel leaves the screen (an open modal
// dialog inside a hidden screen would leave the whole window inert), and the admin session
// ending under a command.

export class PanelTools {
  // `fields` maps the field names the app's errors use to the ids of the controls.
  constructor(doc, app, panelId, fields) {
    this.doc = doc;
    this.app = app;
    this.panel = doc.getElementById(panelId);
    this.fields = fields;
  }

  $(id) {
    return this.doc.getElementById(id);
  }

  // Every modal dialog in the panel closes as soon as the panel or its screen is hidden
  // (a tab switch cannot happen under a modal, but the admin session can lock).
  closeDialogsWhenHidden(onHidden) {
    const screen = this.panel.closest("[data-screen]");
    const watch = new MutationObserver(() => {
      if (this.panel.hidden || screen?.hidden) {
        for (const dialog of this.panel.querySelectorAll("dialog[open]")) dialog.close();
        onHidden?.();
      }
    });
    for (const node of [this.panel, screen]) {
      if (node) watch.observe(node, { attributes: true, attributeFilter: ["hidden"] });
    }
  }

  // True when the error was the admin session ending: the frame then shows the unlock gate.
  lockedOut(error) {
    if (error?.kind !== "admin_locked") return false;
    for (const dialog of this.panel.querySelectorAll("dialog[open]")) dialog.close();
    this.app.adminLocked();
    return true;
  }

  clearErrors(scope) {
    for (const p of scope.querySelectorAll(".field-error")) p.textContent = "";
    for (const c of scope.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  }

  // Puts each of the error's field problems under its control; answers the first control
  // (to focus) or null when none of them belongs to this form. `fallback` gets the message
  // when no field takes it.
  showFieldErrors(error, fallback, only) {
    let first = null;
    const problems = error.fields ?? [];
    for (const problem of problems) {
      const id = this.fields[problem.field];
      if (!id || (only && !only.includes(problem.field))) continue;
      const control = this.$(id);
      const slot = this.$(`${id}-error`);
      if (!control || !slot) continue;
      slot.textContent = problem.message;
      control.setAttribute("aria-invalid", "true");
      first ??= control;
    }
    if (!first && fallback) fallback.textContent = error.message;
    return first;
  }

  // Runs `work` with `button` disabled and its label changed meanwhile.
  async busy(button, label, work) {
    const before = button.textContent;
    button.disabled = true;
    if (label) button.textContent = label;
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.textContent = before;
    }
  }
}

// The accessible name of a button in an accounts table: its visible words, then the account.
export function rowButton(doc, action, label, name, primary = false) {
  const button = doc.createElement("button");
  button.type = "button";
  button.className = primary ? "button button-small button-primary" : "button button-small";
  button.textContent = label;
  button.dataset.action = action;
  button.dataset.name = name;
  button.setAttribute("aria-label", `${label}: ${name}`);
  return button;
}
