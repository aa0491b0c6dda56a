// Settings, the message text: editors for the email's subject, text and HTML parts and for
// the SMS, each with a live preview as you type (sample values, never a real code). The
// app renders and checks every draft; its refusal shows under the editor it is about.
//
// The HTML preview runs nothing and loads nothing: it is an iframe with `sandbox` (no
// scripts, forms, popups or navigation of the window) under the window's own content
// policy, which also refuses every outside image, font and style sheet. That policy refuses
// the template's inline style attributes too, so they are copied onto the elements through
// the CSS object model, which the policy allows; the frame keeps `allow-same-origin` for
// that alone, which gives nothing to a frame that cannot run scripts.

import { call } from "../../ipc.js";
import { element, plural } from "../../format.js";
import { PanelTools } from "./panel-tools.js";

// How long typing pauses before the preview is asked for.
const PREVIEW_DELAY_MS = 250;

const EMAIL_PARTS = ["subject", "text", "html"];
const FIELDS = {
  subject: "msg-subject",
  text: "msg-text",
  html: "msg-html",
  sms: "msg-sms",
};

const ENCODING_WORDS = { gsm7: "GSM-7", ucs2: "UCS-2 (Unicode)" };

function characters(text) {
  return [...text].length;
}

export class MessageSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.tools = new PanelTools(doc, app, "settings-panel-messages", FIELDS);
    this.texts = null;
    this.saved = {};
    this.timers = {};
    this.asked = { email: 0, sms: 0 };
  }

  $(id) {
    return this.doc.getElementById(id);
  }

  mount() {
    const $ = (id) => this.$(id);
    for (const part of EMAIL_PARTS) {
      $(FIELDS[part]).addEventListener("input", () => this.edited("email", part));
    }
    $("msg-sms").addEventListener("input", () => this.edited("sms", "sms"));
    for (const button of this.doc.querySelectorAll("#settings-panel-messages [data-reset]")) {
      button.addEventListener("click", () => this.resetToDefault(button.dataset.reset));
    }
    $("msg-email-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save("email");
    });
    $("msg-sms-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save("sms");
    });
    $("msg-preview-html").addEventListener("load", () => this.styleFrame());
  }

  // The panel became visible. Unsaved drafts stay as they are.
  async show() {
    if (this.texts && this.dirty("email", EMAIL_PARTS)) return;
    if (this.texts && this.dirty("sms", ["sms"])) return;
    try {
      this.fill(await call("message_texts"));
    } catch (error) {
      if (!this.tools.lockedOut(error)) this.showError(error.message);
    }
  }

  showError(message) {
    this.$("msg-error-message").textContent = message;
    this.$("msg-error").hidden = !message;
  }

  fill(texts) {
    this.texts = texts;
    this.showError("");
    for (const part of [...EMAIL_PARTS, "sms"]) {
      this.$(FIELDS[part]).value = texts[part];
      this.saved[part] = texts[part];
    }
    this.$("msg-sms-max").textContent = String(texts.limits.sms_messages);
    const list = this.$("msg-variables");
    list.replaceChildren(
      ...texts.variables.flatMap((v) => {
        const term = element(this.doc, "dt");
        term.append(element(this.doc, "code", "", `{{ ${v.name} }}`));
        return [term, element(this.doc, "dd", "", v.meaning)];
      }),
    );
    for (const part of [...EMAIL_PARTS, "sms"]) this.count(part);
    this.$("msg-email-status").textContent = "";
    this.$("msg-sms-status").textContent = "";
    this.preview("email");
    this.preview("sms");
  }

  dirty(group, parts) {
    return parts.some((p) => this.$(FIELDS[p]).value !== this.saved[p]);
  }

  count(part) {
    const value = this.$(FIELDS[part]).value;
    const max = this.texts?.limits[part];
    const own = value === this.texts?.defaults[part] ? "built-in text" : "your own text";
    const line = this.$(`${FIELDS[part]}-count`);
    if (line) line.textContent = `${characters(value).toLocaleString()} of ${max?.toLocaleString()} characters · ${own}`;
  }

  edited(group, part) {
    this.count(part);
    const parts = group === "email" ? EMAIL_PARTS : ["sms"];
    this.$(`msg-${group}-status`).textContent = this.dirty(group, parts) ? "Not saved yet." : "";
    clearTimeout(this.timers[group]);
    this.timers[group] = setTimeout(() => this.preview(group), PREVIEW_DELAY_MS);
  }

  resetToDefault(part) {
    const field = this.$(FIELDS[part]);
    field.value = this.texts?.defaults[part] ?? field.value;
    this.edited(part === "sms" ? "sms" : "email", part);
    const group = part === "sms" ? "sms" : "email";
    this.$(`msg-${group}-status`).textContent =
      this.dirty(group, group === "sms" ? ["sms"] : EMAIL_PARTS)
        ? "The built-in text is in the editor; Save to keep it."
        : "";
    field.focus();
  }

  // Answers drawn for a draft that has since changed are dropped: only the newest counts.
  async preview(group) {
    const seq = ++this.asked[group];
    clearTimeout(this.timers[group]);
    const parts = group === "email" ? EMAIL_PARTS : ["sms"];
    const args =
      group === "email"
        ? Object.fromEntries(parts.map((p) => [p, this.$(FIELDS[p]).value]))
        : { text: this.$(FIELDS.sms).value };
    let answer;
    try {
      answer = { ok: await call(group === "email" ? "message_preview" : "sms_text_preview", args) };
    } catch (error) {
      answer = { error };
    }
    if (seq !== this.asked[group]) return;
    const form = this.$(`msg-${group}-form`);
    for (const p of parts) {
      this.$(`${FIELDS[p]}-error`).textContent = "";
      this.$(FIELDS[p]).removeAttribute("aria-invalid");
    }
    const state = this.$(group === "email" ? "msg-preview-state" : "msg-sms-preview-state");
    if (answer.error) {
      if (this.tools.lockedOut(answer.error)) return;
      const shown = this.tools.showFieldErrors(answer.error, null, parts);
      form.dataset.preview = "stale";
      state.textContent = shown
        ? "Fix the text marked in red; the preview shows the last version without errors."
        : answer.error.message;
      return;
    }
    form.dataset.preview = "current";
    state.textContent = "Sample values: Jo Smith, code 123456.";
    if (group === "email") this.showEmail(answer.ok);
    else this.showSms(answer.ok);
  }

  showEmail(preview) {
    this.$("msg-preview-subject").textContent = preview.subject;
    this.$("msg-preview-text").textContent = preview.text;
    this.$("msg-preview-source").textContent = preview.html;
    // srcdoc is the HTML itself: nothing is fetched, and the sandbox keeps scripts out.
    this.$("msg-preview-html").srcdoc = preview.html;
  }

  // Applies the template's own inline styles and style blocks, which the content policy
  // would otherwise leave out, through the CSS object model; then fits the frame's height.
  styleFrame() {
    const frame = this.$("msg-preview-html");
    let doc;
    try {
      doc = frame.contentDocument;
    } catch {
      return;
    }
    if (!doc?.documentElement) return;
    for (const node of doc.querySelectorAll("[style]")) {
      node.style.cssText = node.getAttribute("style");
    }
    try {
      const view = doc.defaultView;
      const sheets = [...doc.querySelectorAll("style")].map((block) => {
        const sheet = new view.CSSStyleSheet();
        sheet.replaceSync(block.textContent);
        return sheet;
      });
      if (sheets.length) doc.adoptedStyleSheets = sheets;
    } catch (error) {
      console.warn("the template's style blocks could not be shown in the preview", error);
    }
    const height = Math.min(Math.max(doc.documentElement.scrollHeight, 120), 1200);
    frame.style.height = `${height}px`;
  }

  showSms(preview) {
    this.$("msg-sms-preview-text").textContent = preview.text;
    const encoding = ENCODING_WORDS[preview.encoding] ?? preview.encoding;
    const messages =
      preview.segments === 1
        ? "1 text message"
        : `${preview.segments} text messages of up to ${preview.per_message} characters each`;
    const line = this.$("msg-sms-size");
    line.textContent = `${plural(preview.characters, "character", "characters")} · ${encoding}, ${preview.segments === 1 ? `${preview.per_message} per message` : "sent in parts"} · ${messages} (at most ${preview.max_segments})`;
    line.dataset.tone = preview.segments > 1 ? "warn" : "ok";
  }

  async save(group) {
    const parts = group === "email" ? EMAIL_PARTS : ["sms"];
    const drafts = Object.fromEntries(parts.map((p) => [p, this.$(FIELDS[p]).value]));
    const status = this.$(`msg-${group}-status`);
    const form = this.$(`msg-${group}-form`);
    this.tools.clearErrors(form);
    status.textContent = "";
    try {
      const texts = await this.tools.busy(this.$(`msg-${group}-save`), "Saving…", () =>
        call("message_texts_save", { drafts }),
      );
      this.texts = texts;
      for (const p of parts) {
        // The app may tidy a draft (a subject loses its outer spaces): show what is stored.
        this.$(FIELDS[p]).value = texts[p];
        this.saved[p] = texts[p];
        this.count(p);
      }
      status.textContent = group === "email"
        ? "Saved. The next code by email uses this text."
        : "Saved. The next code by SMS uses this text.";
      this.preview(group);
    } catch (error) {
      if (this.tools.lockedOut(error)) return;
      const control = this.tools.showFieldErrors(error, status, parts);
      if (control) {
        status.textContent = "Not saved: fix the text marked in red.";
        control.focus();
      }
    }
  }
}
