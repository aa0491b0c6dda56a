// The only way from the UI into the app: every call goes through here, so every failure
// reaches the screens in one shape, { kind, message }, whatever went wrong underneath.

export async function call(command, args = {}) {
  const tauri = window.__TAURI__;
  if (!tauri?.core?.invoke) {
    throw {
      kind: "no_app",
      message: "This page only works inside the OTP Desk app.",
    };
  }
  try {
    return await tauri.core.invoke(command, args);
  } catch (error) {
    if (error && typeof error === "object" && "kind" in error && "message" in error) {
      throw error;
    }
    throw { kind: "internal", message: String(error) };
  }
}
