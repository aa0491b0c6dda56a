//! Microsoft sign-in for a mail account, from the window: the device code goes to the page
//! as soon as Microsoft hands it out (through a channel), then the command waits on the
//! blocking pool, polling at Microsoft's pace, until the admin approves on any device, it
//! is declined or expires, or the admin presses Cancel. Only the refresh token is kept, in
//! the keyring; the page learns "signed in".

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use otp_desk_core::clock::Millis;
use otp_desk_core::delivery::{accounts, oauth};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use super::account_name_arg;
use super::mail::{settings, MailSettings};
use crate::commands::blocking;
use crate::error::ShellError;
use crate::state::AppState;

/// What the admin needs to sign in on another device. The user code is meant to be read
/// and typed by a person; the device code that polls with it never leaves the core.
#[derive(Debug, Clone, Serialize)]
pub struct SignInCode {
    account: String,
    user_code: String,
    verification_uri: String,
    expires_at: Millis,
    now: Millis,
}

/// A sign-in waiting for approval, which Cancel wakes and stops.
#[derive(Default)]
struct Waiting {
    cancelled: Mutex<bool>,
    wake: Condvar,
}

impl Waiting {
    /// Pauses for `interval` between polls; false once cancelled (at once, not after the
    /// pause).
    fn pause(&self, interval: Duration) -> bool {
        let cancelled = self.cancelled.lock().unwrap_or_else(|p| p.into_inner());
        let (cancelled, _) = self
            .wake
            .wait_timeout_while(cancelled, interval, |c| !*c)
            .unwrap_or_else(|p| p.into_inner());
        !*cancelled
    }

    fn cancel(&self) {
        *self.cancelled.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }
}

/// The sign-ins under way, by account id. One window, so one list for the process.
static WAITING: Mutex<BTreeMap<i64, Arc<Waiting>>> = Mutex::new(BTreeMap::new());

fn waiting() -> std::sync::MutexGuard<'static, BTreeMap<i64, Arc<Waiting>>> {
    WAITING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts waiting for `account`; a sign-in already waiting for it is cancelled, since only
/// the newest code shown can be the one the admin is typing.
fn begin(account: i64) -> Arc<Waiting> {
    let fresh = Arc::new(Waiting::default());
    if let Some(older) = waiting().insert(account, fresh.clone()) {
        older.cancel();
    }
    fresh
}

fn end(account: i64, mine: &Arc<Waiting>) {
    let mut all = waiting();
    if all.get(&account).is_some_and(|w| Arc::ptr_eq(w, mine)) {
        all.remove(&account);
    }
}

/// Takes a sign-in off the list however its command ends.
struct Listed(i64, Arc<Waiting>);

impl Drop for Listed {
    fn drop(&mut self) {
        end(self.0, &self.1);
    }
}

fn cancel(account: i64) -> bool {
    match waiting().remove(&account) {
        Some(w) => {
            w.cancel();
            true
        }
        None => false,
    }
}

#[tauri::command]
pub async fn mail_sign_in(
    state: State<'_, AppState>,
    name: String,
    on_code: Channel<SignInCode>,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    let tokens = state.delivery().oauth_tokens;
    blocking(move || {
        let keyring = secrets.clone()?;
        let account = accounts::get(&store.conn(), &name)?;
        // Listed before Microsoft is asked, so a Cancel pressed at once is not missed.
        let mine = Listed(account.id, begin(account.id));
        let code = oauth::start_sign_in(&account)?;
        let now = store.clock().now_ms();
        let shown = SignInCode {
            account: account.name.clone(),
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            expires_at: now
                .saturating_add(i64::try_from(code.expires_in.as_millis()).unwrap_or(i64::MAX)),
            now,
        };
        // A page that went away cannot be told; the sign-in then simply expires unused.
        let _ = on_code.send(shown);
        let finished = oauth::finish_sign_in_unless_cancelled(
            &account,
            &code,
            keyring.as_ref(),
            &tokens,
            &|interval| mine.1.pause(interval),
        );
        drop(mine);
        if !finished? {
            return Err(ShellError::new(
                "sign_in_cancelled",
                "The sign-in was cancelled; nothing was stored. The code shown no longer works.",
            ));
        }
        accounts::record_sign_in(&store.conn(), store.clock(), &actor, &account, true)?;
        tracing::info!(account = %account.name, "mail account signed in to Microsoft");
        settings(&store, &secrets)
    })
    .await
}

/// Stops waiting for the account's sign-in. Answers whether one was waiting.
#[tauri::command]
pub async fn mail_sign_in_cancel(
    state: State<'_, AppState>,
    name: String,
) -> Result<bool, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let store = state.store()?;
    blocking(move || {
        let account = accounts::get(&store.conn(), &name)?;
        Ok(cancel(account.id))
    })
    .await
}

/// Deletes the sign-in from the keyring and forgets the access token; sending then says to
/// sign in again.
#[tauri::command]
pub async fn mail_sign_out(
    state: State<'_, AppState>,
    name: String,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    let tokens = state.delivery().oauth_tokens;
    blocking(move || {
        let keyring = secrets.clone()?;
        let account = accounts::get(&store.conn(), &name)?;
        cancel(account.id);
        oauth::sign_out(&account, keyring.as_ref(), &tokens)?;
        accounts::record_sign_in(&store.conn(), store.clock(), &actor, &account, false)?;
        settings(&store, &secrets)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn cancel_wakes_a_waiting_sign_in_at_once_and_a_new_one_replaces_the_old() {
        let first = begin(-7);
        let waiter = {
            let first = first.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                (first.pause(Duration::from_secs(60)), started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        // A second sign-in for the same account cancels the first.
        let second = begin(-7);
        let (went_on, waited) = waiter.join().unwrap();
        assert!(!went_on);
        assert!(waited < Duration::from_secs(30), "woken, not timed out");
        // The first one ending does not take the second off the list.
        end(-7, &first);
        assert!(cancel(-7));
        assert!(!second.pause(Duration::from_secs(60)));
        assert!(!cancel(-7), "nothing left to cancel");
    }

    #[test]
    fn an_uncancelled_pause_lasts_its_interval_and_goes_on() {
        let w = begin(-8);
        assert!(w.pause(Duration::from_millis(10)));
        end(-8, &w);
        assert!(!cancel(-8));
    }
}
