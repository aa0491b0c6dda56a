/// Every command the webview may call. `generate_handler!` in lib.rs registers the same list;
/// a command that is registered but missing here is refused at run time ("… not allowed"),
/// which is the point: nothing reaches the shell unless the ACL names it.
const COMMANDS: &[&str] = &[
    "admin_status",
    "admin_set_up",
    "admin_unlock",
    "admin_lock",
    "list_operators",
    "app_status",
    "choose_operator",
    "load_sample_customers",
    "open_outbox_folder",
    "search_customers",
    "customer_card",
    "send_code",
    "verify_code",
    "code_status",
    "list_customers",
    "get_customer",
    "create_customer",
    "update_customer",
    "delete_customer",
    "customer_import_rules",
    "preview_customer_import",
    "import_customers",
    "export_customers",
    "open_customers_export_folder",
    "activity_codes",
    "activity_code_detail",
    "activity_audit",
    "activity_export_codes",
    "activity_export_audit",
    "activity_open_exports_folder",
    "dashboard_summary",
    "policy_settings",
    "set_policy_setting",
    "add_operator",
    "rename_operator",
    "retire_operator",
    "reactivate_operator",
    "admin_passphrase_rules",
    "change_admin_passphrase",
    "data_overview",
    "backup_now",
    "restore_backup",
    "cleanup_codes",
    "open_database_folder",
    "open_backups_folder",
];

fn main() {
    // tauri-build only watches its default capabilities folder; ours lives under src-tauri/.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
