// The only way from the UI into the app: every call goes through here, so every failure
// reaches the screens in one shape, { kind, message }, whatever went wrong underneath.

import { localTimes } from "./format.js";

function tauri() {
  const api = window.__TAURI__;
  if (!api?.core?.invoke) {
    throw {
      kind: "no_app",
      message: "This page only works inside the OTP Desk app.",
    };
  }
  return api;
}

// `args` is the command's named arguments, or raw bytes (a Uint8Array) for a command that
// takes its body as is, with `options.headers` for the rest.
export async function call(command, args = {}, options = undefined) {
  const api = tauri();
  try {
    return await api.core.invoke(command, args, options);
  } catch (error) {
    if (error && typeof error === "object" && "kind" in error && "message" in error) {
      // A message that names a time ("locked until …") says it in the clerk's time zone.
      throw { ...error, message: localTimes(error.message) };
    }
    throw { kind: "internal", message: String(error) };
  }
}

// A line of messages from a running command (delivery progress, import progress), handed to
// `onMessage` as they come. Passed to `call` as one of the command's arguments.
export function channel(onMessage) {
  const api = tauri();
  const line = new api.core.Channel();
  line.onmessage = (message) => {
    try {
      onMessage(message);
    } catch (error) {
      console.error("a progress message could not be shown", error);
    }
  };
  return line;
}
