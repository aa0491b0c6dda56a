//! The admin area's door: first-start set-up, unlock, lock, and the state the frame shows;
//! and the list of operators the clerk picks their name from.

use otp_desk_core::admin::{self, AdminError};
use otp_desk_core::clock::Millis;
use otp_desk_core::operators::{self, Operator};
use serde::Serialize;
use tauri::State;
use zeroize::Zeroizing;

use otp_desk_core::Store;

use super::blocking;
use crate::error::ShellError;
use crate::state::{lock_session, AppState, SharedSession};

/// What the frame needs to know about the admin area.
#[derive(Debug, Serialize)]
pub struct AdminState {
    passphrase_set: bool,
    unlocked: bool,
    /// When the open admin area locks itself if nothing happens before then.
    locks_at: Option<Millis>,
    /// Set while wrong passphrases have locked the admin area.
    locked_until: Option<Millis>,
    attempts_left: u32,
    now: Millis,
}

fn admin_state(state: &AppState, active: bool) -> Result<AdminState, ShellError> {
    state_of(&state.store()?, &state.shared_session(), active)
}

fn state_of(
    store: &Store,
    session: &SharedSession,
    active: bool,
) -> Result<AdminState, ShellError> {
    let now = store.clock().now_ms();
    let stored = admin::status(&store.conn(), now)?;
    let mut session = lock_session(session);
    if active {
        // Someone is working in the admin screens: that is activity, as a command would be.
        session.admin().check(now).ok();
    }
    let open = session.admin().state(now);
    Ok(AdminState {
        passphrase_set: stored.is_set,
        unlocked: open.unlocked,
        locks_at: open.locks_at,
        locked_until: stored.locked_until,
        attempts_left: stored.attempts_left,
        now,
    })
}

/// `active`: the keyboard or mouse was used since the frame last asked, which keeps an open
/// admin area open.
#[tauri::command]
pub async fn admin_status(
    state: State<'_, AppState>,
    active: Option<bool>,
) -> Result<AdminState, ShellError> {
    // It reads the database, which a long import may hold for a while: off the async workers.
    let store = state.store()?;
    let session = state.shared_session();
    blocking(move || state_of(&store, &session, active.unwrap_or(false))).await
}

/// Longer than any passphrase the rules allow; what is longer is refused before it is copied.
const MAX_PASSPHRASE_INPUT: usize = 4 * admin::MAX_PASSPHRASE_CHARS;

fn passphrase_arg(passphrase: String) -> Result<Zeroizing<String>, ShellError> {
    let passphrase = Zeroizing::new(passphrase);
    if passphrase.len() > MAX_PASSPHRASE_INPUT {
        return Err(ShellError::from(AdminError::TooLong).on_field("passphrase"));
    }
    Ok(passphrase)
}

#[derive(Debug, Serialize)]
pub struct SetUp {
    admin: AdminState,
    operator: String,
}

/// First start: the admin passphrase and the first operator in one step. Only while no
/// passphrase exists; afterwards the admin changes it in Settings.
#[tauri::command]
pub async fn admin_set_up(
    state: State<'_, AppState>,
    passphrase: String,
    operator: String,
) -> Result<SetUp, ShellError> {
    let passphrase = passphrase_arg(passphrase)?;
    let store = state.store()?;
    let session = state.shared_session();
    let name = blocking(move || {
        let mut conn = store.conn();
        if admin::is_set(&conn)? {
            return Err(AdminError::AlreadySet.into());
        }
        // Both are checked before either is written, so a refused passphrase leaves no
        // half-made set-up behind.
        let name = operators::clean_name(&operator)
            .map_err(|e| ShellError::from(e).on_field("operator"))?;
        admin::check_new_for(&conn, &passphrase)
            .map_err(|e| ShellError::from(e).on_field("passphrase"))?;
        let name = match operators::find(&conn, &name)? {
            Some(existing) if existing.active => existing.name,
            Some(existing) => {
                operators::reactivate(&mut conn, store.clock(), &name, existing.id)?.name
            }
            None => operators::add(&mut conn, store.clock(), &name, &name)?.name,
        };
        admin::set(&mut conn, store.clock(), &name, &passphrase)
            .map_err(|e| ShellError::from(e).on_field("passphrase"))?;
        // The person who just chose the passphrase is the admin: the area opens for them.
        let mut session = lock_session(&session);
        session.set_operator(Some(name.clone()));
        session
            .admin()
            .unlock(&mut conn, store.clock(), &name, &passphrase)?;
        Ok(name)
    })
    .await?;
    Ok(SetUp {
        admin: admin_state(&state, false)?,
        operator: name,
    })
}

async fn unlock_with(
    session: SharedSession,
    store: Store,
    actor: String,
    passphrase: Zeroizing<String>,
) -> Result<(), ShellError> {
    blocking(move || {
        // The session stays locked while Argon2 works (a moment, on purpose), so two unlock
        // clicks cannot interleave.
        let mut session = lock_session(&session);
        session
            .admin()
            .unlock(&mut store.conn(), store.clock(), &actor, &passphrase)?;
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn admin_unlock(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<AdminState, ShellError> {
    let passphrase = passphrase_arg(passphrase)?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    let result = unlock_with(state.shared_session(), store, actor, passphrase).await;
    if let Err(error) = &result {
        tracing::info!(kind = error.kind, "admin unlock refused");
    }
    result?;
    admin_state(&state, false)
}

#[tauri::command]
pub fn admin_lock(state: State<'_, AppState>) -> Result<AdminState, ShellError> {
    state.session().admin().lock();
    tracing::info!("admin area locked");
    admin_state(&state, false)
}

/// Everyone on the list, active first; the picker offers the active ones.
#[tauri::command]
pub async fn list_operators(state: State<'_, AppState>) -> Result<Vec<Operator>, ShellError> {
    let store = state.store()?;
    blocking(move || Ok(operators::list(&store.conn())?)).await
}
