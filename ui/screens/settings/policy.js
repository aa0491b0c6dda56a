// Settings, the one-time code policy and office settings, each with its allowed range.
//
// The core owns every number and its bounds (core/src/settings.rs); this panel shows them
// and sends what the admin types, and the core's refusal appears under the field. A field
// is one small form of its own, so Enter saves exactly the value that was typed.

import { element, plural, sentence, spokenDuration } from "../../format.js";

// How a setting reads on screen. A setting missing here still gets a field, under its key.
const WORDS = {
  code_digits: { label: "Digits in a code", unit: ["digit", "digits"] },
  code_lifetime_minutes: { label: "Code lifetime", unit: ["minute", "minutes"] },
  max_attempts: { label: "Wrong entries allowed per code", unit: ["attempt", "attempts"] },
  resend_cooldown_seconds: { label: "Wait before another code can be sent", unit: ["second", "seconds"] },
  retention_days: { label: "Keep finished codes for", unit: ["day", "days"] },
  admin_idle_lock_minutes: { label: "Lock the admin area after", unit: ["idle minute", "idle minutes"] },
  default_region: { label: "Country for phone numbers without +code" },
  company_name: { label: "Office name in messages" },
};

// Which card each setting is shown on; a setting on none of them joins the first.
const SECTIONS = [
  ["policy-codes", ["code_digits", "code_lifetime_minutes", "max_attempts", "resend_cooldown_seconds"]],
  ["policy-office", ["company_name", "default_region"]],
  ["policy-records", ["retention_days"]],
];
// Shown on another tab, where it belongs with its subject.
const ELSEWHERE = new Set(["admin_idle_lock_minutes"]);

function words(key) {
  return WORDS[key] ?? { label: key };
}

// "5 minutes", or the value itself for text.
export function valueInWords(setting) {
  const unit = words(setting.key).unit;
  const n = Number(setting.value);
  return unit && Number.isFinite(n) ? plural(n, unit[0], unit[1]) : setting.value;
}

function rangeInWords(setting) {
  const unit = words(setting.key).unit;
  if (setting.min !== null && setting.max !== null) {
    return `${setting.min}–${setting.max}${unit ? ` ${unit[1]}` : ""}`;
  }
  return setting.choices.length > 0 ? "" : setting.allowed;
}

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: "region" });
  } catch {
    return null;
  }
})();

function regionLabel(code) {
  let name = null;
  try {
    name = regionNames?.of(code);
  } catch {
    name = null;
  }
  return name && name !== code ? `${code} — ${name}` : code;
}

// One setting's form, cloned from the template in index.html. `save(key, value)` answers with
// the setting as now in force, or throws the core's error.
export class SettingField {
  constructor(doc, setting, save) {
    this.doc = doc;
    this.save = save;
    const form = doc.getElementById("setting-field-template").content.firstElementChild.cloneNode(true);
    this.form = form;
    const key = setting.key;
    const id = `setting-${key}`;
    const q = (selector) => form.querySelector(selector);
    this.label = q("label");
    this.about = q(".office-setting-about");
    this.range = q(".office-setting-range");
    this.now = q(".office-setting-now");
    this.error = q(".field-error");
    this.button = q("button");
    const select = q("select");
    const input = q("input");
    if (setting.choices.length > 0) {
      input.remove();
      this.control = select;
      select.replaceChildren(...setting.choices.map((code) => {
        const option = element(doc, "option", null, regionLabel(code));
        option.value = code;
        return option;
      }));
    } else {
      select.remove();
      this.control = input;
      if (setting.min !== null && setting.max !== null) {
        input.type = "number";
        input.inputMode = "numeric";
        input.min = String(setting.min);
        input.max = String(setting.max);
        input.step = "1";
        input.classList.add("office-number");
      } else {
        input.type = "text";
      }
    }
    this.control.id = id;
    this.label.htmlFor = id;
    this.about.id = `${id}-about`;
    this.range.id = `${id}-range`;
    this.now.id = `${id}-now`;
    this.error.id = `${id}-error`;
    this.control.setAttribute("aria-describedby", [this.about.id, this.range.id, this.now.id, this.error.id].join(" "));
    this.label.textContent = words(key).label;
    this.button.setAttribute("aria-label", `Save ${words(key).label.toLowerCase()}`);
    form.dataset.setting = key;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.show(setting);
  }

  show(setting, saved = false) {
    this.setting = setting;
    this.about.textContent = setting.about;
    const range = rangeInWords(setting);
    this.range.textContent = range ? `Allowed: ${range}` : "";
    this.range.hidden = !range;
    this.control.value = setting.value;
    this.showInForce(saved);
  }

  showInForce(saved) {
    const setting = this.setting;
    const defaults = { ...setting, value: setting.default };
    this.now.textContent =
      `${saved ? "Saved. " : ""}In force: ${valueInWords(setting)} · default ${valueInWords(defaults)}`;
  }

  async submit() {
    this.showInForce(false);
    this.error.textContent = "";
    this.control.removeAttribute("aria-invalid");
    this.button.disabled = true;
    try {
      this.show(await this.save(this.setting.key, this.control.value), true);
    } catch (error) {
      if (error.kind !== "admin_locked") {
        this.error.textContent = sentence(error.fields?.[0]?.message ?? error.message);
        this.control.setAttribute("aria-invalid", "true");
        this.control.focus();
      }
    }
    this.button.disabled = false;
  }
}

export class PolicySettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
  }

  mount() {
    this.$("policy-to-data").addEventListener("click", (event) => {
      event.preventDefault();
      this.$("settings-tab-data").click();
    });
  }

  // The panel became visible.
  async show() {
    const error = this.$("policy-error");
    error.textContent = "";
    let policy;
    try {
      policy = await this.app.adminCall("policy_settings");
    } catch (e) {
      if (e.kind !== "admin_locked") error.textContent = sentence(e.message);
      return;
    }
    this.showSettings(policy.settings);
    this.showFixed(policy.fixed);
  }

  showSettings(settings) {
    const save = (key, value) => this.app.adminCall("set_policy_setting", { key, value });
    const placed = new Map(SECTIONS.map(([id]) => [id, []]));
    for (const setting of settings) {
      if (ELSEWHERE.has(setting.key)) continue;
      const section = SECTIONS.find(([, keys]) => keys.includes(setting.key))?.[0] ?? SECTIONS[0][0];
      placed.get(section).push(new SettingField(this.doc, setting, save).form);
    }
    for (const [id, forms] of placed) this.$(id).replaceChildren(...forms);
  }

  showFixed(fixed) {
    const items = [
      `At most ${plural(fixed.sends_per_10_minutes, "code", "codes")} to one contact in 10 minutes, and ${fixed.sends_per_day} in a day.`,
      `${fixed.contact_lock_after_failures} wrong codes in a row lock the contact: first for ${spokenDuration(fixed.contact_lock_first_seconds)}, then twice as long each time, up to ${spokenDuration(fixed.contact_lock_max_seconds)}. A right code resets the count.`,
      "A code works once, and sending a new code voids the ones sent before it.",
      "Codes are kept only as a keyed hash: nobody, not even the admin, can read one back.",
    ];
    this.$("policy-fixed").replaceChildren(...items.map((text) => element(this.doc, "li", null, text)));
  }
}
