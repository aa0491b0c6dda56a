// Settings, backups, restore, the database location and cleanup of old codes.
//
// The page never touches files: the app writes backups into its backups folder, lists them,
// and restores one by its name in that folder. A backup kept elsewhere is copied into the
// folder first, which the panel explains.

import { dateTime, element, fileSize, plural, sentence } from "../../format.js";

export class DataSettings {
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.data = null;
    this.restoring = null;
    // What the last restore did, kept until the admin is back in this panel to read it.
    this.lastRestore = null;
  }

  mount() {
    const $ = this.$;
    $("data-backup-now").addEventListener("click", () => this.backupNow());
    $("data-refresh").addEventListener("click", () => this.load(true));
    $("data-open-db-folder").addEventListener("click", () => this.openFolder("open_database_folder", "data-db-folder-note"));
    $("data-open-backups").addEventListener("click", () => this.openFolder("open_backups_folder", "data-backup-status"));
    $("data-cleanup").addEventListener("click", () => this.cleanup());
    $("data-backups-rows").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-backup]");
      if (button) this.askRestore(button.dataset.backup);
    });
    $("data-restore-cancel").addEventListener("click", () => $("data-restore-dialog").close());
    $("data-restore-confirm").addEventListener("click", () => this.restore());
  }

  // The panel became visible.
  async show() {
    this.$("data-backup-status").textContent = this.lastRestore ?? "";
    this.lastRestore = null;
    await this.load(false);
  }

  async load(announce) {
    const error = this.$("data-error");
    error.textContent = "";
    try {
      this.showData(await this.app.adminCall("data_overview"));
      if (announce) {
        // Another desk or the command line may have changed the data: the status line too.
        await this.app.refreshStatus();
        this.$("data-backup-status").textContent =
          `The list is up to date: ${plural(this.data.backups.length + this.data.older_backups, "backup", "backups")} in the folder.`;
      }
    } catch (e) {
      if (e.kind !== "admin_locked") error.textContent = sentence(e.message);
    }
  }

  showData(data) {
    const $ = this.$;
    const doc = this.doc;
    this.data = data;
    $("data-db-path").textContent = data.database_path;
    $("data-schema").textContent = String(data.schema_version);
    $("data-customers").textContent = data.customers.toLocaleString();
    $("data-backups-folder").textContent = data.backups_folder;
    $("data-backups-folder-again").textContent = data.backups_folder;
    $("data-retention").textContent = plural(data.retention_days, "day", "days");

    const template = $("backup-row-template").content.firstElementChild;
    const rows = data.backups.map((backup) => {
      const row = template.cloneNode(true);
      row.querySelector(".backup-name").textContent = backup.name;
      row.querySelector(".backup-size").textContent = fileSize(backup.bytes);
      row.querySelector(".backup-time").textContent = dateTime(backup.modified_at);
      const button = row.querySelector("button");
      button.dataset.backup = backup.name;
      button.setAttribute("aria-label", `Restore ${backup.name}`);
      return row;
    });
    $("data-backups-rows").replaceChildren(...rows);
    $("data-backups-table").hidden = rows.length === 0;
    $("data-backups-empty").hidden = rows.length > 0;
    const older = $("data-backups-older");
    older.hidden = data.older_backups === 0;
    older.textContent = data.older_backups === 0 ? "" :
      `${plural(data.older_backups, "older backup is", "older backups are")} in the folder but not listed here.`;
    doc.getElementById("data-restore-safety-folder").textContent = data.database_folder;
  }

  async backupNow() {
    const $ = this.$;
    const status = $("data-backup-status");
    const button = $("data-backup-now");
    button.disabled = true;
    status.textContent = "Making a backup…";
    try {
      const made = await this.app.adminCall("backup_now");
      this.showData(made.overview);
      status.replaceChildren("Backup written: ", element(this.doc, "code", null, made.path));
      this.doc.querySelector(`#data-backups-rows button[data-backup="${CSS.escape(made.name)}"]`)?.closest("tr")?.classList.add("office-new");
    } catch (e) {
      status.textContent = e.kind === "admin_locked" ? "" : sentence(e.message);
    }
    button.disabled = false;
  }

  async openFolder(command, noteId) {
    const note = this.$(noteId);
    try {
      const folder = await this.app.adminCall(command);
      note.replaceChildren("Opened ", element(this.doc, "code", null, folder));
    } catch (e) {
      if (e.kind !== "admin_locked") note.textContent = sentence(e.message);
    }
  }

  askRestore(name) {
    const $ = this.$;
    this.restoring = name;
    $("data-restore-name").textContent = name;
    $("data-restore-error").textContent = "";
    $("data-restore-progress").textContent = "";
    $("data-restore-confirm").disabled = false;
    $("data-restore-cancel").disabled = false;
    $("data-restore-dialog").showModal();
    // The safe choice has the focus: Enter by reflex does not replace the database.
    $("data-restore-cancel").focus();
  }

  async restore() {
    const $ = this.$;
    const name = this.restoring;
    if (!name) return;
    const confirm = $("data-restore-confirm");
    confirm.disabled = true;
    $("data-restore-cancel").disabled = true;
    $("data-restore-error").textContent = "";
    $("data-restore-progress").textContent = "Restoring… the safety copy comes first.";
    let done;
    try {
      done = await this.app.adminCall("restore_backup", { name });
    } catch (e) {
      if (e.kind === "admin_locked") {
        $("data-restore-dialog").close();
      } else {
        $("data-restore-progress").textContent = "";
        $("data-restore-error").textContent = sentence(e.message);
        confirm.disabled = false;
        $("data-restore-cancel").disabled = false;
        $("data-restore-cancel").focus();
      }
      return;
    }
    $("data-restore-dialog").close();
    const cancelled = done.pending_codes_cancelled;
    const summary =
      `Restored ${name}: ${plural(done.customers, "customer", "customers")}` +
      (cancelled > 0 ? `, ${plural(cancelled, "waiting code", "waiting codes")} cancelled (send new ones)` : "") +
      `. The database as it was before is in ${done.safety_copy}; restoring that file undoes this.`;
    this.lastRestore = summary;
    // The desk starts over on the restored data, and the picker follows its operator list.
    this.app.desk.startOver();
    await this.app.refreshStatus();
    if (done.operator_cleared) await this.app.chooseOperator("");
    await this.app.loadOperators(this.app.operator ?? "");
    this.app.adminLocked({ message: `${summary} The admin area locked itself after the restore: enter the admin passphrase to go on.` });
  }

  async cleanup() {
    const $ = this.$;
    const status = $("data-cleanup-status");
    const button = $("data-cleanup");
    button.disabled = true;
    status.textContent = "Deleting old codes…";
    try {
      const report = await this.app.adminCall("cleanup_codes");
      const deleted = report.deleted_codes === 0
        ? "No codes were old enough to delete"
        : `Deleted ${plural(report.deleted_codes, "code", "codes")}`;
      status.textContent =
        `${deleted}: codes are kept for ${plural(report.retention_days, "day", "days")} after they expire, so those that expired before ${dateTime(report.cutoff)} go. The activity log keeps every event.`;
    } catch (e) {
      status.textContent = e.kind === "admin_locked" ? "" : sentence(e.message);
    }
    button.disabled = false;
  }
}
