// The Dashboard screen (admin only): codes per day over the last 30 days, delivery success
// per account, and the latest delivery failures with what to do about them.
//
// The chart is inline SVG made with DOM calls (no library, no markup from strings); its
// colours are CSS variables, so it follows the light or dark theme. The same numbers are in
// a table for anyone who cannot see the chart.

import { call } from "../ipc.js";
import { dateTime, element, failureClassWords } from "../format.js";

const SVG = "http://www.w3.org/2000/svg";

// In the order the bars of a day stand, and the legend and table list them.
const SERIES = [
  { key: "sent", label: "Sent", css: "series-sent" },
  { key: "verified", label: "Verified", css: "series-verified" },
  { key: "failed_verifications", label: "Failed checks", css: "series-failed" },
  { key: "delivery_failures", label: "Delivery failures", css: "series-delivery" },
  { key: "contacts_locked", label: "Contacts locked", css: "series-locked" },
];

const KIND_WORDS = {
  gmail: "Gmail",
  microsoft365: "Microsoft 365",
  smtp: "SMTP server",
  console: "Console (development)",
  outbox: "Outbox folder",
};

const CHART_HEIGHT = 260;
const MARGIN = { top: 14, right: 12, bottom: 46, left: 52 };

// The office's calendar date ("2026-03-02") as a short label; read as a date, not an instant,
// so no time zone can move it to the day before.
const shortDay = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const longDay = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const hourMinute = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function calendarDate(text) {
  const [year, month, day] = text.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

function svg(doc, tag, attributes = {}, text) {
  const node = doc.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A step of 1, 2 or 5 times a power of ten that splits 0..max into about `count` parts.
function niceStep(max, count) {
  const raw = Math.max(max, 1) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return Math.max(1, Math.ceil(step));
}

function cell(doc, content, className) {
  const td = doc.createElement("td");
  if (className) td.className = className;
  td.append(...(Array.isArray(content) ? content : [content]));
  return td;
}

// A row of a table that stacks in narrow boxes: each cell in one box, named by its column.
function stackedRow(doc, labels, contents, classes = []) {
  const tr = doc.createElement("tr");
  tr.setAttribute("role", "row");
  contents.forEach((content, i) => {
    const box = element(doc, "div", "cell-box");
    box.append(...(Array.isArray(content) ? content : [content]));
    const td = cell(doc, box, classes[i]);
    td.setAttribute("role", "cell");
    td.dataset.label = labels[i] ?? "";
    tr.append(td);
  });
  return tr;
}

function headerLabels(tbody) {
  return [...tbody.closest("table").querySelectorAll("thead th")].map((th) => th.textContent.trim());
}

function count(n) {
  return n.toLocaleString();
}

export class DashboardScreen {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.data = null;
    this.drawnWidth = 0;
    this.asked = 0;
  }

  mount() {
    this.$("dash-refresh").addEventListener("click", () => this.load());
    this.$("dash-table-toggle").addEventListener("click", () => this.toggleTable());
    const view = this.doc.defaultView;
    if (view.ResizeObserver) {
      // Redrawn at the new size rather than scaled, so the labels keep their size when the
      // window or the zoom changes.
      let pending = false;
      new view.ResizeObserver(() => {
        if (pending) return;
        pending = true;
        view.requestAnimationFrame(() => {
          pending = false;
          const width = this.$("dash-chart").clientWidth;
          if (this.data && width > 0 && Math.abs(width - this.drawnWidth) > 1) this.drawChart();
        });
      }).observe(this.$("dash-chart"));
    }
  }

  show() {
    this.$("dashboard-title").focus();
    this.load();
  }

  hide() {}

  toggleTable() {
    const button = this.$("dash-table-toggle");
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Hide the table" : "Show the numbers as a table";
    this.$("dash-days-wrap").hidden = !open;
  }

  async load() {
    const seq = ++this.asked;
    const error = this.$("dash-error");
    let data;
    try {
      // The page's own time zone decides where a day starts, as every time on the page does.
      data = await call("dashboard_summary", {
        timezoneOffsetMinutes: new Date().getTimezoneOffset(),
      });
    } catch (e) {
      if (seq !== this.asked) return;
      if (e.kind === "admin_locked") {
        this.app.adminLocked();
        return;
      }
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    if (seq !== this.asked) return;
    error.hidden = true;
    this.data = data;
    this.render();
  }

  render() {
    const data = this.data;
    const days = data.days;
    const first = days[0];
    const today = days[days.length - 1];
    this.$("dash-period").textContent =
      `${longDay.format(calendarDate(first.date))} – ${longDay.format(calendarDate(today.date))} · as of ${hourMinute.format(new Date(data.now))}`;
    for (const s of SERIES) {
      this.$(`dash-today-${s.key}`).textContent = count(today[s.key]);
      this.$(`dash-total-${s.key}`).textContent = `${count(data.totals[s.key])} in ${days.length} days`;
    }
    this.drawChart();
    this.fillDays();
    this.fillAccounts();
    this.fillFailures();
  }

  drawChart() {
    const doc = this.doc;
    const { days, totals } = this.data;
    const box = this.$("dash-chart");
    const width = Math.max(280, Math.floor(box.clientWidth || 800));
    this.drawnWidth = width;
    const height = CHART_HEIGHT;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    const highest = Math.max(0, ...days.flatMap((d) => SERIES.map((s) => d[s.key])));
    // A quiet month still gets a scale of a few codes, so one code is not a full-height bar.
    const scale = Math.max(highest, 4);
    const step = niceStep(scale, 4);
    const top = Math.ceil(scale / step) * step;
    const y = (value) => MARGIN.top + plotH - (value / top) * plotH;

    const firstDay = longDay.format(calendarDate(days[0].date));
    const lastDay = longDay.format(calendarDate(days[days.length - 1].date));
    const root = svg(doc, "svg", {
      class: "chart-svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": "dash-chart-svg-title dash-chart-svg-desc",
    });
    root.append(
      svg(doc, "title", { id: "dash-chart-svg-title" }, `Codes per day from ${firstDay} to ${lastDay}`),
      svg(
        doc,
        "desc",
        { id: "dash-chart-svg-desc" },
        `Bar chart, one group of five bars per day. In all: ${SERIES.map(
          (s) => `${count(totals[s.key])} ${s.label.toLowerCase()}`,
        ).join(", ")}. The table under the chart has every day's numbers.`,
      ),
    );

    const grid = svg(doc, "g", { class: "chart-grid", "aria-hidden": "true" });
    for (let value = 0; value <= top; value += step) {
      const at = y(value);
      grid.append(
        svg(doc, "line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: at, y2: at }),
        svg(doc, "text", { x: MARGIN.left - 8, y: at, class: "chart-tick", "text-anchor": "end", "dominant-baseline": "middle" }, count(value)),
      );
    }
    root.append(grid);

    const groupW = plotW / days.length;
    const barW = Math.max(1, (groupW * 0.8) / SERIES.length);
    const bars = svg(doc, "g", { class: "chart-bars" });
    // About one date label per 64 pixels, always including today at the right.
    const every = Math.max(1, Math.ceil(64 / groupW));
    const labels = svg(doc, "g", { class: "chart-days", "aria-hidden": "true" });
    days.forEach((day, i) => {
      const left = MARGIN.left + i * groupW + groupW * 0.1;
      const label = shortDay.format(calendarDate(day.date));
      SERIES.forEach((s, j) => {
        const value = day[s.key];
        if (value <= 0) return;
        const rect = svg(doc, "rect", {
          class: `bar ${s.css}`,
          x: left + j * barW,
          y: y(value),
          width: Math.max(1, barW - (barW > 3 ? 1 : 0)),
          height: MARGIN.top + plotH - y(value),
        });
        rect.append(svg(doc, "title", {}, `${label}: ${count(value)} ${s.label.toLowerCase()}`));
        bars.append(rect);
      });
      if ((days.length - 1 - i) % every === 0) {
        labels.append(
          svg(doc, "text", { x: MARGIN.left + (i + 0.5) * groupW, y: MARGIN.top + plotH + 18, class: "chart-tick", "text-anchor": "middle" }, label),
        );
      }
    });
    root.append(bars, labels);

    const axis = svg(doc, "g", { class: "chart-axis", "aria-hidden": "true" });
    axis.append(
      svg(doc, "line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }),
      svg(doc, "text", { x: MARGIN.left + plotW / 2, y: height - 6, class: "chart-axis-title", "text-anchor": "middle" }, "Day"),
      svg(doc, "text", {
        x: -(MARGIN.top + plotH / 2),
        y: 14,
        class: "chart-axis-title",
        "text-anchor": "middle",
        transform: "rotate(-90)",
      }, "Codes"),
    );
    root.append(axis);
    if (highest === 0) {
      root.append(
        svg(doc, "text", { x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, class: "chart-empty", "text-anchor": "middle" }, "Nothing happened in these 30 days"),
      );
    }
    box.replaceChildren(root);
  }

  fillDays() {
    const doc = this.doc;
    const rows = [...this.data.days].reverse().map((day) => {
      const tr = doc.createElement("tr");
      const th = element(doc, "th", "", longDay.format(calendarDate(day.date)));
      th.scope = "row";
      tr.append(th, ...SERIES.map((s) => cell(doc, count(day[s.key]), "num")));
      return tr;
    });
    this.$("dash-days").replaceChildren(...rows);
  }

  fillAccounts() {
    const doc = this.doc;
    const accounts = this.data.accounts;
    const body = this.$("dash-accounts");
    const labels = headerLabels(body);
    this.$("dash-accounts-empty").hidden = accounts.length > 0;
    body.replaceChildren(
      ...accounts.map((a) => {
        const kind =
          a.channel === "sms" ? "SMS" : a.kind ? KIND_WORDS[a.kind] ?? a.kind : "Removed account";
        let rate = element(doc, "span", "missing", "—");
        if (a.success_rate !== null && a.success_rate !== undefined) {
          const percent = a.success_rate.toLocaleString(undefined, { style: "percent", maximumFractionDigits: 1 });
          rate = element(doc, "span", "badge", percent);
          rate.dataset.tone = a.success_rate >= 0.95 ? "ok" : a.success_rate >= 0.8 ? "warn" : "bad";
        }
        const tests = a.test_sent + a.test_failed === 0
          ? element(doc, "span", "missing", "—")
          : `${count(a.test_sent)} sent · ${count(a.test_failed)} failed`;
        return stackedRow(
          doc,
          labels,
          [element(doc, "strong", "", a.account), kind, count(a.sent), count(a.failed), rate, tests],
          ["", "", "num", "num", "num", "num"],
        );
      }),
    );
  }

  fillFailures() {
    const doc = this.doc;
    const failures = this.data.recent_failures;
    const body = this.$("dash-failures");
    const labels = headerLabels(body);
    this.$("dash-failures-empty").hidden = failures.length > 0;
    body.replaceChildren(
      ...failures.map((f) => {
        const when = element(doc, "time", "", dateTime(f.at));
        when.dateTime = new Date(f.at).toISOString();
        const account = [element(doc, "span", "", f.account)];
        if (f.test) account.push(" ", element(doc, "span", "badge", "test message"));
        const problem = element(doc, "span", "badge", failureClassWords(f.failure_class));
        problem.dataset.tone = "bad";
        return stackedRow(doc, labels, [
          when,
          account,
          element(doc, "span", "masked-contact", f.recipient),
          problem,
          element(doc, "span", "hint-line", f.hint ?? "See the server's reply."),
          f.reply ? element(doc, "span", "server-reply", f.reply) : element(doc, "span", "missing", "—"),
        ]);
      }),
    );
  }
}
