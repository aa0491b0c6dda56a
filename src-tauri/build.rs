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
    "mail_accounts",
    "mail_account_add",
    "mail_account_set_password",
    "mail_account_set_default",
    "mail_account_remove",
    "mail_test",
    "mail_sign_in",
    "mail_sign_in_cancel",
    "mail_sign_out",
    "sms_accounts",
    "sms_account_add",
    "sms_account_set_token",
    "sms_account_set_default",
    "sms_account_remove",
    "sms_test",
    "message_texts",
    "message_preview",
    "sms_text_preview",
    "message_texts_save",
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
